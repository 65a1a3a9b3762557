// The actions of Argo's WorkflowService and ArchivedWorkflowService, as the UI sends them.
import { request } from "./api.js";
import type { Workflow } from "./types.js";

export type WorkflowAction = "retry" | "resubmit" | "suspend" | "resume" | "stop" | "terminate" | "delete";

/** Actions that destroy work or data ask for confirmation first. */
export const DESTRUCTIVE: ReadonlySet<WorkflowAction> = new Set(["stop", "terminate", "delete"]);

const enc = encodeURIComponent;

export function runAction(workflow: Workflow, action: WorkflowAction, archived = false): Promise<Workflow> {
  const ns = workflow.metadata.namespace ?? "";
  const name = workflow.metadata.name ?? "";
  if (archived) {
    const base = `api/v1/archived-workflows/${enc(workflow.metadata.uid ?? "")}`;
    if (action === "delete") return request("DELETE", base, { query: { namespace: ns } });
    return request("PUT", `${base}/${action}`, { body: { uid: workflow.metadata.uid, namespace: ns, name } });
  }
  const base = `api/v1/workflows/${enc(ns)}/${enc(name)}`;
  if (action === "delete") return request("DELETE", base);
  const body: Record<string, unknown> = { namespace: ns, name };
  if (action === "resubmit") body.memoized = false;
  return request("PUT", `${base}/${action}`, { body });
}

/** Resumes one suspend node (Argo sends `nodeFieldSelector: id=<nodeId>`). */
export function resumeNode(workflow: Workflow, nodeId: string): Promise<Workflow> {
  const ns = workflow.metadata.namespace ?? "";
  const name = workflow.metadata.name ?? "";
  return request("PUT", `api/v1/workflows/${enc(ns)}/${enc(name)}/resume`, {
    body: { namespace: ns, name, nodeFieldSelector: `id=${nodeId}` },
  });
}

/** Which actions make sense in a workflow's phase (Argo's UI greys out the rest). */
export function availableActions(workflow: Workflow, archived: boolean): Set<WorkflowAction> {
  const phase = workflow.status?.phase ?? "";
  const done = phase === "Succeeded" || phase === "Failed" || phase === "Error";
  if (archived) return new Set(["retry", "resubmit", "delete"]);
  const out = new Set<WorkflowAction>(["resubmit", "delete"]);
  if (phase === "Failed" || phase === "Error") out.add("retry");
  if (!done) {
    out.add(workflow.spec?.suspend ? "resume" : "suspend");
    out.add("stop");
    out.add("terminate");
  }
  return out;
}
