import { defineErrorCodes } from "../../errors/index.js";

/** Error codes of the Kubernetes executor (`SKF-KUBE-`). */
export const KUBE_CODES = defineErrorCodes({
  "SKF-KUBE-001": {
    title: "No Kubernetes cluster configured",
    hint:
      "Point Skiff at a cluster: set KUBECONFIG, put a kubeconfig at ~/.kube/config, run inside a pod with a " +
      "service account, or give `kubernetes: { kubeconfig: <path>, context: <name> }` in the Skiff config.",
  },
  "SKF-KUBE-002": {
    title: "Kubernetes API request failed",
    hint:
      "The API server refused or did not answer a request; its message says why. A 403 means the service " +
      "account or user lacks a permission of examples/kubernetes/rbac.yaml; a 422 names the field of the " +
      "object it rejected.",
  },
  "SKF-KUBE-003": {
    title: "Container command unknown",
    hint:
      "The Kubernetes executor wraps a container's command to collect its outputs, so it must know it: give the " +
      "container a `command:`, or describe its image under the executor's `images:` setting " +
      '(e.g. `images: { "argoproj/argosay:v2": { entrypoint: ["/argosay"] } }`).',
  },
  "SKF-KUBE-004": {
    title: "Step inputs too large for a ConfigMap",
    hint:
      "Input artifacts and scripts reach the pod through a ConfigMap, which the API server caps near 1 MiB. " +
      "Keep large inputs in an artifact repository the pod can read (s3, gcs, http) or on a volume " +
      "(`volumeClaimTemplates`, an existing PersistentVolumeClaim).",
  },
  "SKF-KUBE-005": {
    title: "Invalid podSpecPatch",
    hint: "`podSpecPatch` must be a YAML or JSON object of PodSpec fields, e.g. `{containers: [{name: main, resources: {...}}]}`.",
  },
  "SKF-KUBE-006": {
    title: "Invalid Kubernetes executor setting",
    hint: "Check the `kubernetes:` section of the Skiff config (see docs/kubernetes.md for its fields).",
  },
  "SKF-KUBE-007": {
    title: "Resource template failed",
    hint:
      "The manifest of a `resource` template could not be applied, or its object could not be read. The " +
      "message names the object and the API server's answer; check the manifest and the RBAC of the user.",
  },
});
