import { defineErrorCodes } from "../errors/index.js";

export const CONTROLLER_CODES = defineErrorCodes({
  "SKF-CTRL-001": {
    title: "Template execution error",
    hint: "The node could not be started: check the template's inputs, arguments and references.",
  },
  "SKF-CTRL-002": {
    title: "Kubernetes needed",
    hint: "`resource` templates create Kubernetes objects: run this workflow with the Kubernetes executor (`--executor kubernetes`).",
  },
  "SKF-CTRL-003": {
    title: "Maximum recursion depth exceeded",
    hint: "A template calls itself (directly or through others) more than 100 levels deep; add a stopping `when`.",
  },
  "SKF-CTRL-004": {
    title: "Loop expansion failed",
    hint: "`withParam` must be a JSON list and `withSequence` needs numeric `start`/`end`/`count`.",
  },
  "SKF-CTRL-005": {
    title: "Input parameter not supplied",
    hint: "Pass the parameter as an argument, or give the input a `default`.",
  },
  "SKF-CTRL-006": {
    title: "Output not resolvable",
    hint: "Check the `valueFrom.parameter`/`expression` of the template outputs, or add a `valueFrom.default`.",
  },
  "SKF-CTRL-007": {
    title: "Unsupported template type",
    hint: "Plugin templates are not supported by Skiff.",
  },
  "SKF-CTRL-008": {
    title: "Lifecycle hook without expression",
    hint: "Every hook other than `exit` needs an `expression` saying when it runs.",
  },
  "SKF-CTRL-009": {
    title: "Unknown node",
    hint: "The node field selector matched no node; use `displayName=<name>` or `name=<full node name>`.",
  },
  "SKF-CTRL-010": {
    title: "Suspend output not set",
    hint: "Set the suspend node's output with `node set --output-parameter`, or give it a default.",
  },
  "SKF-CTRL-011": {
    title: "Memoization failed",
    hint: "The memoize key must match ^[a-zA-Z0-9][-a-zA-Z0-9]*$ after substitution.",
  },
  "SKF-CTRL-012": {
    title: "Synchronization error",
    hint: "A semaphore needs a ConfigMap key holding an integer; load the ConfigMap beside the workflow.",
  },
  "SKF-CTRL-013": {
    title: "Artifact not resolvable",
    hint: "An input artifact has no location: pass it with `from`, or mark it `optional: true`.",
  },
  "SKF-CTRL-014": {
    title: "Step re-attach failed",
    hint: "On recovery the executor could not tell whether the step still runs (is its engine up?); the node is an Error and its retryStrategy decides.",
  },
});
