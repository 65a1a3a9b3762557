import { randomInt } from "node:crypto";
import {
  formulateResubmitWorkflow,
  formulateRetryWorkflow,
  WorkflowRetryError,
} from "../../runtime/controller/workflow-retry.js";
import { defineErrorCodes, SkiffError } from "../../runtime/errors/index.js";
import type { Store } from "../../runtime/interfaces/store.js";
import type { CompiledWorkflow } from "../../runtime/spec/compiled.js";
import type { Workflow } from "../../runtime/spec/types.js";
import { readRun } from "./control.js";
import {
  describeOwner,
  leaseAlive,
  readSource,
  refuseExisting,
  SOURCE_ANNOTATION,
  type RunSource,
} from "./store.js";

export const RETRY_CODES = defineErrorCodes({
  "SKF-RUN-007": {
    title: "Workflow cannot be retried",
    hint: "Only a Failed or Error workflow can be retried (a Succeeded one with --restart-successful and --node-field-selector); `skiff resubmit NAME` runs it again from the start.",
  },
  "SKF-RUN-008": {
    title: "Workflow cannot be resubmitted",
    hint: "--memoized needs a Failed or Error workflow; without it any workflow started by `skiff run` or `skiff submit` can be resubmitted.",
  },
});

/** How long `retry` waits for the process that completed a workflow to let it go. */
const LEASE_RELEASE_WAIT_MS = 10_000;

/** RFC3339 in whole seconds, as the controller writes times. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/** `-p name=value` pairs in the order given (Argo puts overridden parameters first). */
export type ParameterOverrides = [string, string][];

export interface RetryRequest {
  restartSuccessful?: boolean;
  nodeFieldSelector?: string;
  parameters?: ParameterOverrides;
}

export interface ResubmitRequest {
  memoized?: boolean;
  parameters?: ParameterOverrides;
}

/** Five characters of `[a-z0-9]`, as Kubernetes appends to a `generateName`. */
export function randomSuffix(): string {
  const letters = "abcdefghijklmnopqrstuvwxyz0123456789";
  let s = "";
  for (let i = 0; i < 5; i++) s += letters[randomInt(letters.length)];
  return s;
}

/** The stored source with the overrides merged in, so the run compiles with the new values. */
function withParameters(wf: Workflow, source: RunSource, overrides: ParameterOverrides | undefined): void {
  if (!overrides || overrides.length === 0) return;
  const merged = { ...source, parameters: { ...source.parameters, ...Object.fromEntries(overrides) } };
  wf.metadata.annotations = { ...wf.metadata.annotations, [SOURCE_ANNOTATION]: JSON.stringify(merged) };
}

function sourceOf(wf: Workflow): RunSource {
  const source = readSource(wf);
  if (!source)
    throw new SkiffError(
      "SKF-RUN-006",
      `workflow ${wf.metadata.name} has no recorded source to run again from`,
    );
  return source;
}

/**
 * Resets a stored Failed/Error workflow as `argo retry` does (`formulateRetryWorkflow`) and stores it, ready
 * to be continued by `recoverWorkflow` (here or in a background process). A workflow only in the archive is
 * put back first. `SKF-RUN-007` with Argo's message
 * when it cannot be retried; `SKF-RUN-005` when a live process still owns it.
 */
export async function prepareRetry(
  store: Store,
  namespace: string,
  name: string,
  request: RetryRequest,
  now = new Date(),
): Promise<Workflow> {
  const live = await store.get(namespace, name);
  // A run deleted from the store is retried from its archived copy (as `argo archive retry`).
  const archived = live ? undefined : await store.archiveGet(namespace, name);
  if (archived) {
    const copy = structuredClone(archived);
    delete copy.metadata.resourceVersion;
    await store.put(copy, { expectedResourceVersion: "" });
  }
  let wf = await readRun(store, namespace, name);
  let lease = await store.getLease(namespace, name);
  if (leaseAlive(lease) && !["Failed", "Error", "Succeeded"].includes(wf.status?.phase ?? ""))
    throw new SkiffError(
      "SKF-RUN-007",
      `Cannot retry a workflow in phase ${wf.status?.phase || "Pending"} (run by ${describeOwner(lease!.owner)})`,
    );
  // A completed workflow's process still writes its final state and then lets go: wait for that.
  for (const until = Date.now() + LEASE_RELEASE_WAIT_MS; leaseAlive(lease) && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 50));
    lease = await store.getLease(namespace, name);
  }
  if (leaseAlive(lease))
    throw new SkiffError(
      "SKF-RUN-005",
      `workflow ${namespace}/${name} is still held by ${describeOwner(lease!.owner)}; try again when it has exited`,
    );
  wf = await readRun(store, namespace, name);
  const source = sourceOf(wf);
  let next: Workflow;
  try {
    next = formulateRetryWorkflow(wf, { ...request, now: rfc3339(now) });
  } catch (e) {
    if (e instanceof WorkflowRetryError) throw new SkiffError("SKF-RUN-007", e.message);
    throw e;
  }
  withParameters(next, source, request.parameters);
  await store.put(next, { expectedResourceVersion: wf.metadata.resourceVersion ?? "" });
  return readRun(store, namespace, name);
}

/**
 * Stores the new workflow `argo resubmit` creates from a live or archived one (`formulateResubmitWorkflow`),
 * under a name generated from its `generateName` (else `<name>-`). It is Pending and owned by nobody until
 * `recoverWorkflow` runs it.
 */
export async function prepareResubmit(
  store: Store,
  namespace: string,
  name: string,
  request: ResubmitRequest,
  now = new Date(),
): Promise<Workflow> {
  const wf = (await store.get(namespace, name)) ?? (await store.archiveGet(namespace, name));
  if (!wf) throw new SkiffError("SKF-RUN-003", `workflow ${namespace}/${name} not found`);
  const source = sourceOf(wf);
  const prefix = wf.metadata.generateName || `${name}-`;
  let newName = prefix + randomSuffix();
  while (await store.get(namespace, newName)) newName = prefix + randomSuffix();
  let next: Workflow;
  try {
    next = formulateResubmitWorkflow(wf, {
      name: newName,
      memoized: request.memoized,
      parameters: request.parameters,
      now: rfc3339(now),
    });
  } catch (e) {
    if (e instanceof WorkflowRetryError) throw new SkiffError("SKF-RUN-008", e.message);
    throw e;
  }
  next.metadata.namespace = namespace;
  next.status = { ...next.status, phase: next.status?.phase || "Pending" };
  withParameters(next, source, request.parameters);
  await store.put(next, { expectedResourceVersion: "" });
  return readRun(store, namespace, newName);
}

/**
 * Stores a compiled workflow as submitted (Pending, with the source it is compiled again from) for a
 * background process to run. `SKF-RUN-005` when a live process runs a workflow of that name, `SKF-RUN-014`
 * when the store holds one already (Argo's AlreadyExists).
 */
export async function storeSubmitted(
  store: Store,
  compiled: CompiledWorkflow,
  source: RunSource,
): Promise<Workflow> {
  const meta = compiled.workflow.metadata;
  const namespace = meta.namespace ?? "default";
  const name = meta.name ?? "";
  const lease = await store.getLease(namespace, name);
  if (leaseAlive(lease))
    throw new SkiffError(
      "SKF-RUN-005",
      `workflow ${namespace}/${name} is run by ${describeOwner(lease!.owner)} (lease owner ${lease!.owner})`,
    );
  await refuseExisting(store, namespace, name);
  const wf: Workflow = {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: {
      ...structuredClone(meta),
      namespace,
      annotations: { ...meta.annotations, [SOURCE_ANNOTATION]: JSON.stringify(source) },
    },
    spec: structuredClone(compiled.workflow.spec),
    status: { phase: "Pending" },
  };
  await store.put(wf, { expectedResourceVersion: "" });
  return readRun(store, namespace, name);
}
