import { SkiffError } from "../errors/index.js";
import type { LogLine } from "../interfaces/executor.js";
import type { LogQuery, WorkflowQuery } from "../interfaces/store.js";
import type { Workflow } from "../spec/types.js";
import { STORE_CODES } from "./codes.js";

/** Where a workflow without `metadata.namespace` lives (as in Kubernetes). */
export const DEFAULT_NAMESPACE = "default";

/** Argo's label that keeps a completed workflow out of the archive when set to "false". */
export const ARCHIVE_STRATEGY_LABEL = "workflows.argoproj.io/archive-strategy";

const COMPLETED_PHASES = new Set(["Succeeded", "Failed", "Error"]);

export function isCompletedPhase(phase: string | undefined): boolean {
  return phase !== undefined && COMPLETED_PHASES.has(phase);
}

/** Namespace and name of a workflow about to be stored; rejects objects without a name. */
export function workflowKey(workflow: Workflow): { namespace: string; name: string } {
  const name = workflow.metadata?.name;
  if (typeof name !== "string" || name === "") {
    throw new SkiffError(STORE_CODES["SKF-STORE-008"], "cannot store a workflow without metadata.name");
  }
  const namespace = workflow.metadata.namespace || DEFAULT_NAMESPACE;
  return { namespace, name };
}

/** The copy that is stored: namespace filled in, `resourceVersion` set. */
export function toStoredWorkflow(workflow: Workflow, namespace: string, resourceVersion: string): Workflow {
  return {
    ...workflow,
    metadata: { ...workflow.metadata, namespace, resourceVersion },
  };
}

/** Key under which a completed run is archived: its uid, or its name when it has none. */
export function archiveId(workflow: Workflow): string {
  return workflow.metadata.uid || workflow.metadata.name || "";
}

/** Whether putting this workflow also (re)writes its archive entry. */
export function shouldArchive(workflow: Workflow): boolean {
  return (
    isCompletedPhase(workflow.status?.phase) && workflow.metadata.labels?.[ARCHIVE_STRATEGY_LABEL] !== "false"
  );
}

function parseTime(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

export function finishedAtMs(workflow: Workflow): number | undefined {
  return parseTime(workflow.status?.finishedAt);
}

/**
 * When Argo's TTL controller deletes a completed workflow (ms since the epoch), as in
 * `workflow/ttlcontroller`: `secondsAfterFailure` for Failed, `secondsAfterSuccess` for Succeeded, else
 * `secondsAfterCompletion` (so an Error run only expires through `secondsAfterCompletion`).
 */
export function ttlExpiresAt(workflow: Workflow): number | undefined {
  const phase = workflow.status?.phase;
  if (!isCompletedPhase(phase)) return undefined;
  const finished = finishedAtMs(workflow);
  if (finished === undefined) return undefined;
  const ttl = workflow.spec?.ttlStrategy ?? workflow.status?.storedWorkflowTemplateSpec?.ttlStrategy;
  if (!ttl) return undefined;
  let seconds: number | undefined;
  if (phase === "Failed" && ttl.secondsAfterFailure != null) seconds = ttl.secondsAfterFailure;
  else if (phase === "Succeeded" && ttl.secondsAfterSuccess != null) seconds = ttl.secondsAfterSuccess;
  else if (ttl.secondsAfterCompletion != null) seconds = ttl.secondsAfterCompletion;
  return seconds === undefined ? undefined : finished + seconds * 1000;
}

export interface WorkflowSummary {
  namespace: string;
  name: string;
  phase: string;
  labels: Record<string, string>;
}

export function summarize(workflow: Workflow): WorkflowSummary {
  return {
    namespace: workflow.metadata.namespace || DEFAULT_NAMESPACE,
    name: workflow.metadata.name ?? "",
    phase: workflow.status?.phase ?? "",
    labels: workflow.metadata.labels ?? {},
  };
}

/** The filters of a `WorkflowQuery` other than `limit`. */
export function matchesQuery(s: WorkflowSummary, query: WorkflowQuery | undefined): boolean {
  if (!query) return true;
  if (query.namespace !== undefined && s.namespace !== query.namespace) return false;
  if (query.namePrefix !== undefined && !s.name.startsWith(query.namePrefix)) return false;
  if (query.phases && query.phases.length > 0 && !query.phases.includes(s.phase)) return false;
  for (const [k, v] of Object.entries(query.labelSelector ?? {})) {
    if (s.labels[k] !== v) return false;
  }
  return true;
}

export function compareByNamespaceAndName(a: WorkflowSummary, b: WorkflowSummary): number {
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return 0;
}

/** Newest `finishedAt` first; ties by namespace/name for a stable order. */
export function compareArchived(a: Workflow, b: Workflow): number {
  const fa = finishedAtMs(a) ?? 0;
  const fb = finishedAtMs(b) ?? 0;
  if (fa !== fb) return fb - fa;
  return compareByNamespaceAndName(summarize(a), summarize(b));
}

/** The line filters of a `LogQuery`. */
export function logLineMatches(
  line: LogLine,
  query: LogQuery | undefined,
  sinceMs: number | undefined,
): boolean {
  if (!query) return true;
  if (query.nodeId !== undefined && line.nodeId !== query.nodeId) return false;
  if (query.container !== undefined && line.container !== query.container) return false;
  if (sinceMs !== undefined) {
    const t = parseTime(line.time);
    if (t === undefined || t < sinceMs) return false;
  }
  return true;
}

export function sinceMsOf(query: LogQuery | undefined): number | undefined {
  return parseTime(query?.since);
}

/** Rejects a put whose precondition does not hold. */
export function checkExpectedVersion(
  key: { namespace: string; name: string },
  expected: string | undefined,
  current: string | undefined,
): void {
  if (expected === undefined) return;
  if ((current ?? "") === expected) return;
  throw new SkiffError(
    STORE_CODES["SKF-STORE-002"],
    current === undefined
      ? `workflow ${key.namespace}/${key.name} does not exist (expected resourceVersion ${expected})`
      : `workflow ${key.namespace}/${key.name} is at resourceVersion ${current}, not ${expected === "" ? "absent" : expected}`,
  );
}

export function closedError(): SkiffError {
  return new SkiffError(STORE_CODES["SKF-STORE-005"], "the store is closed");
}

/** Waits `ms` of real time, or until `signal` aborts (resolves either way). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** An enumerable property computed on first read (and then kept), which JSON and spreads see like any other. */
export function defineLazy<T extends object>(target: T, key: string, compute: () => unknown): void {
  const settle = (value: unknown) =>
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get() {
      const value = compute();
      settle(value);
      return value;
    },
    set: settle,
  });
}
