import { defineErrorCodes } from "../../errors/index.js";

/** Error codes of the registry of WorkflowTemplates, ClusterWorkflowTemplates and CronWorkflows (`SKF-REG-`). */
export const REGISTRY_CODES = defineErrorCodes({
  "SKF-REG-001": {
    title: "Registry object changed concurrently",
    hint: "Someone else created, changed or deleted the object since you read it (its resourceVersion moved on). Read it again, reapply your change and retry; `create` of an existing name fails this way too (delete it first, or update it).",
  },
  "SKF-REG-002": {
    title: "Invalid object for the registry",
    hint: "The registry keeps WorkflowTemplates, ClusterWorkflowTemplates and CronWorkflows (apiVersion argoproj.io/v1alpha1), each with metadata.name.",
  },
  "SKF-REG-003": {
    title: "Not found in the registry",
    hint: "List what the store holds with `skiff template list`, `skiff cluster-template list` or `skiff cron list` (-n NAMESPACE for another namespace), or create it first with `create FILE`.",
  },
  "SKF-REG-004": {
    title: "Object refused by the registry",
    hint: "The object does not pass `skiff lint`: fix the problems listed (each names its file and line), then create it again.",
  },
  "SKF-REG-005": {
    title: "Bad registry reference",
    hint: "Name the object as argo does: workflowtemplate/NAME (or wftmpl/NAME), clusterworkflowtemplate/NAME (or cwftmpl/NAME), cronwf/NAME (or cronworkflow/NAME).",
  },
  "SKF-REG-006": {
    title: "Server not supported here yet",
    hint: "These commands work on the local store (--state-dir, SKIFF_STORE, a postgres:// URL); talking to a skiff server is not wired in this version. Unset SKIFF_SERVER or leave out --server.",
  },
});
