/**
 * Examples whose final phase differs from Argo's on the host executor, each with its reason. Every entry
 * is also listed in docs/conformance.md; the conformance test fails when one starts matching, so this
 * list cannot go stale.
 */
export const KNOWN_MISMATCHES: Record<string, string> = {
  "k8s-owner-reference.yaml":
    "a `resource` template (creates a Workflow object): resource templates need a Kubernetes API; the host executor ends them in Error with SKF-CTRL-002",
  "k8s-patch-json-pod.yaml":
    "a `resource` template patching its own Pod: there is no Pod object without Kubernetes (SKF-CTRL-002)",
  "k8s-patch-merge-pod.yaml":
    "a `resource` template patching its own Pod: there is no Pod object without Kubernetes (SKF-CTRL-002)",
  "k8s-patch-pod.yaml":
    "a `resource` template patching its own Pod: there is no Pod object without Kubernetes (SKF-CTRL-002)",
  "variables-showcase.yaml":
    "two daemon steps listen on port 9999 at once; in Argo each pod has its own IP, on the host executor steps share the host's network, so the second daemon cannot bind and fails",
};
