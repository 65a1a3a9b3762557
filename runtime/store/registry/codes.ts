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
});
