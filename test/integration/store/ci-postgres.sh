#!/usr/bin/env bash
# Makes PostgreSQL's server binaries available for the store tests, without starting a system cluster: the
# tests start (and stop) their own throwaway cluster in a temp folder. Run as root before `npm test`:
#   bash test/integration/store/ci-postgres.sh
# Skips the install when initdb and pg_ctl are already there, or when SKIFF_TEST_POSTGRES_URL is set.
set -euo pipefail

if [ -n "${SKIFF_TEST_POSTGRES_URL:-}" ]; then
  echo "store tests use SKIFF_TEST_POSTGRES_URL"
  exit 0
fi
if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
  echo "PostgreSQL binaries found: $(command -v initdb)"
  exit 0
fi
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "PostgreSQL binaries found: $(ls /usr/lib/postgresql/*/bin/initdb | tail -n 1)"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Debian's package would create and start a "main" cluster; the tests do not need one.
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/skiff-tests.conf
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
echo "PostgreSQL binaries installed: $(ls /usr/lib/postgresql/*/bin/initdb | tail -n 1)"
