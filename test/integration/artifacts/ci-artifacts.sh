#!/usr/bin/env bash
# Prerequisites of the artifact driver tests. The tests start every server themselves on free localhost ports:
# s3rver and Azurite from node_modules (devDependencies), git's own `git http-backend`, and node:http servers
# and fakes for HTTP, Artifactory, GCS and OSS. Nothing keeps running after the tests. This script only makes
# sure the system tools are there; run it after `npm ci` and before the tests:
#   bash test/integration/artifacts/ci-artifacts.sh
# Set ARTIFACT_TESTS=1 to also run the driver tests here.
set -euo pipefail
cd "$(dirname "$0")/../../.."

if ! command -v git >/dev/null 2>&1; then
  echo "== installing git"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends git ca-certificates >/dev/null
fi
exec_path="$(git --exec-path)"
if [ ! -x "$exec_path/git-http-backend" ]; then
  echo "git-http-backend not found in $exec_path: the git driver tests need git's smart-HTTP backend" >&2
  exit 1
fi
for pkg in s3rver azurite; do
  if [ ! -f "node_modules/$pkg/package.json" ]; then
    echo "node_modules/$pkg is missing: run npm ci first" >&2
    exit 1
  fi
done
echo "== artifact driver test prerequisites: $(git --version), s3rver, azurite"

if [ "${ARTIFACT_TESTS:-0}" = "1" ]; then
  npx vitest run test/integration/artifacts test/unit/artifacts/drivers
fi
