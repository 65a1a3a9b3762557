import { defineErrorCodes } from "../errors/index.js";

/** Error codes of artifact handling (`SKF-ART-`). */
export const ART_CODES = defineErrorCodes({
  "SKF-ART-001": {
    title: "Unsafe archive entry",
    hint: "The archive holds an entry that would land outside the target folder (absolute path, `..`, a link pointing out, alone or through a chain of other links, or a link made through another link). Recreate the archive with relative paths only.",
  },
  "SKF-ART-002": {
    title: "Archive too large",
    hint: "The unpacked artifact exceeds the size bound. Store a smaller artifact or raise the bound.",
  },
  "SKF-ART-003": {
    title: "Artifact not found",
    hint: "The artifact was never saved, was deleted, or its key is wrong. Mark the input `optional: true` if it may be absent.",
  },
  "SKF-ART-004": {
    title: "Artifact storage not supported yet",
    hint: "Skiff currently stores artifacts in its embedded local repository and reads `raw` artifacts. Drop the storage block to use the local repository.",
  },
  "SKF-ART-005": {
    title: "Artifact has no location",
    hint: "The artifact names no storage (`local`, `raw`, `s3`, ...). Pass it with `from:` or give it a location.",
  },
  "SKF-ART-006": {
    title: "Invalid artifact key",
    hint: "Keys are relative paths inside the repository; they may not be absolute or contain `..`.",
  },
  "SKF-ART-007": {
    title: "Artifact cannot be written",
    hint: "This kind of artifact is read-only (e.g. `raw`). Save outputs to the repository instead.",
  },
  "SKF-ART-008": {
    title: "Archive unreadable",
    hint: "The stored file is not a valid tar.gz or zip archive. It may be truncated; save it again.",
  },
  "SKF-ART-009": {
    title: "Artifact repository not found",
    hint: "The workflow's `artifactRepositoryRef` names a ConfigMap or key that was not given. Pass the `artifact-repositories` ConfigMap manifest with the workflow, with the key the ref names (or the `workflows.argoproj.io/default-artifact-repository` annotation).",
  },
  "SKF-ART-010": {
    title: "Artifact repository not valid",
    hint: "An artifact repository (in the Skiff config or an `artifact-repositories` ConfigMap) must hold exactly one of `s3: {bucket, ...}` or `local: {path}`, in Argo's format. See docs/configuration.md.",
  },
  "SKF-ART-011": {
    title: "Artifact key format cannot be resolved",
    hint: "`keyFormat` may use `{{workflow.name}}`, `{{workflow.namespace}}`, `{{workflow.uid}}`, `{{workflow.creationTimestamp.<c>}}`, `{{workflow.labels.<name>}}`, `{{workflow.annotations.<name>}}`, `{{workflow.parameters.<name>}}` and `{{pod.name}}`; the named label, annotation or parameter must exist.",
  },
});
