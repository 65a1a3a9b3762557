#!/bin/sh
# Runs Skiff's examples with the Kubernetes executor against the cluster KUBECONFIG names, and checks that
# no pod, ConfigMap or claim of theirs is left. .github/workflows/kubernetes.yml runs it on a kind cluster;
# test/integration/kubernetes/ci-script.test.ts runs it against the API double.
#
#   SKIFF="node dist/cli.js" NAMESPACE=skiff examples/kubernetes/run-examples.sh
#
# SKIFF: how to start the CLI (default: node dist/cli.js). NAMESPACE: where steps run (default: default).
# SKIFF_CONFIG: a Skiff config file to pass (an executorImage or imageMap for the cluster's images).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
skiff=${SKIFF:-node "$root/dist/cli.js"}
ns=${NAMESPACE:-default}
config=""
if [ -n "${SKIFF_CONFIG:-}" ]; then config="--config $SKIFF_CONFIG"; fi
failed=0
for wf in "$here/pods.yaml" "$root/examples/hello-world.yaml" "$root/examples/fan-out-fan-in.yaml"; do
  echo "::group::$(basename "$wf")"
  # shellcheck disable=SC2086
  if $skiff run "$wf" --executor kubernetes --namespace "$ns" $config --logs; then
    echo "ok $(basename "$wf")"
  else
    echo "FAILED $(basename "$wf")"
    failed=1
  fi
  echo "::endgroup::"
done
exit $failed
