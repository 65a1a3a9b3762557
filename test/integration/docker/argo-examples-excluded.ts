/**
 * The examples EXPECTED.tsv asserts that the Docker examples test does not run, each with its reason. The
 * same list, with the same reasons, is in docs/conformance.md ("On the Docker executor").
 */
export const NOT_ON_DOCKER: Record<string, string> = {
  "k8s-owner-reference.yaml": "a `resource` template: needs a Kubernetes API (SKF-EXEC-003 on Docker)",
  "k8s-patch-json-pod.yaml": "a `resource` template patching its own Pod: needs Kubernetes",
  "k8s-patch-merge-pod.yaml": "a `resource` template patching its own Pod: needs Kubernetes",
  "k8s-patch-pod.yaml": "a `resource` template patching its own Pod: needs Kubernetes",
  "http-hello-world.yaml":
    "an `http` template only (no container) calling raw.githubusercontent.com; the host run reaches a local stand-in on port 443",
  "life-cycle-hooks-wf-level.yaml":
    "its hooks are `http` templates calling raw.githubusercontent.com; the host run reaches a local stand-in on port 443",
  "life-cycle-hooks-tmpl-level.yaml":
    "its hooks are `http` templates calling raw.githubusercontent.com; the host run reaches a local stand-in on port 443",
};
