import { defineErrorCodes } from "../../errors/index.js";

/** Error codes of the executors (`SKF-EXEC-`), shared by every executor. */
export const EXEC_CODES = defineErrorCodes({
  "SKF-EXEC-001": {
    title: "No command for image",
    hint:
      "The container has no `command` and the image's entrypoint is unknown. Add `command:` to the template, " +
      "or describe the image under the executor's `images:` setting " +
      '(e.g. `images: { "argoproj/argosay:v2": { entrypoint: ["/argosay"] } }`).',
  },
  "SKF-EXEC-002": {
    title: "Command not found on this machine",
    hint:
      "The host executor runs commands on this machine. Install the tool, or map the image's tool onto a host " +
      'tool with `images: { "<image>": { host: { commands: { python: "python3" } } } }`.',
  },
  "SKF-EXEC-003": {
    title: "Template type not supported by this executor",
    hint: "Run this workflow with an executor that supports it (e.g. `resource` templates need Kubernetes).",
  },
  "SKF-EXEC-004": {
    title: "Sandbox not available",
    hint: "Install bubblewrap (`apt-get install bubblewrap`) or set the sandbox option to `auto` or `none`.",
  },
  "SKF-EXEC-005": {
    title: "Unknown step",
    hint:
      "The handle was not returned by this executor's `start`, its result was already taken with `wait` (the " +
      "executor then forgets the step), or the executor was cleaned up.",
  },
  "SKF-EXEC-006": {
    title: "Step could not be prepared",
    hint: "Check that the executor's work folder is writable and has free space.",
  },
  "SKF-EXEC-007": {
    title: "Invalid containerSet",
    hint: "Each container needs a unique name and `dependencies` may only name other containers of the set, without cycles.",
  },
  "SKF-EXEC-008": {
    title: "Daemon step ended before it was ready",
    hint: "The daemon's process exited or was killed before its readinessProbe passed; see the step's logs.",
  },
  "SKF-EXEC-009": {
    title: "ConfigMap or Secret of a volume not available",
    hint:
      "A `configMap` or `secret` volume is made from the ConfigMap/Secret manifests loaded beside the workflow " +
      "(e.g. `skiff run wf.yaml cm.yaml`); load the manifest, or mark the volume `optional: true`.",
  },
  "SKF-EXEC-010": {
    title: "Volume type not supported by the host executor",
    hint:
      "The host executor provides `persistentVolumeClaim`, `emptyDir`, `hostPath`, `configMap` and `secret` " +
      "volumes; use one of them, or run the workflow on Kubernetes.",
  },
  "SKF-EXEC-011": {
    title: "ConfigMap or Secret of an environment variable not available",
    hint:
      "`env[].valueFrom.secretKeyRef`/`configMapKeyRef` and `envFrom` read the Secret/ConfigMap manifests loaded " +
      "beside the workflow (e.g. `skiff run wf.yaml secret.yaml`); load the manifest, add the missing key, or mark " +
      "the reference `optional: true`.",
  },
  "SKF-EXEC-012": {
    title: "tty: true not provided on this host (warning)",
    hint:
      "The host executor gives a `tty: true` container a terminal through util-linux `script`, which is not " +
      "installed here: `[ -t 1 ]` is false and tools print as they do in a pipe. Install util-linux (`script`), " +
      "run the workflow with `--executor docker`, or give the tool its non-interactive flag (e.g. `--no-color`).",
  },
  "SKF-EXEC-013": {
    title: "Steps run without a sandbox (warning)",
    hint:
      "Without bubblewrap the host executor runs steps as the user running Skiff, with that user's access to " +
      "files, processes (their environment through /proc) and the network. Install bubblewrap " +
      "(`apt-get install bubblewrap`) so that each step gets a read-only view of the host and its own /tmp and " +
      "process namespace, or run untrusted workflows with the Docker executor.",
  },
});
