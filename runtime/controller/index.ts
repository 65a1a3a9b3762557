import type { CompiledWorkflow } from "../spec/compiled.js";
import type { Workflow } from "../spec/types.js";
import { WorkflowOperator } from "./operator.js";
import type { ControllerOptions, RunningWorkflow } from "./types.js";

export type { ControllerOptions, RunningWorkflow } from "./types.js";
export type { MemoCache, MemoEntry } from "../interfaces/memo.js";
export { CONTROLLER_CODES } from "./codes.js";
export { HOOK_REEVALUATION_MS } from "./hooks.js";
export { storedTemplateKey } from "./stored.js";
export { SyncManager, defaultSyncManager, Limiter } from "./limits.js";
export { InMemoryMemoCache } from "./memoization.js";
export { matchesSelector, humanizeDuration } from "./support.js";
export { isCompleted, isFulfilled, isFailedOrError, outboundNodes, displayNameOf } from "./graph.js";
export { itemDescription, expandSequence, parseWithParam } from "./loops.js";

/** Starts running a compiled workflow. The returned handle controls it; `done` resolves with the result. */
export function startWorkflow(compiled: CompiledWorkflow, options: ControllerOptions): RunningWorkflow {
  return wrap(new WorkflowOperator(compiled, options));
}

/**
 * Continues a workflow from a persisted status (crash recovery): fulfilled nodes are kept and not re-run;
 * steps that were still running are re-attached through `Executor.attach` (a lost one is an Error
 * `pod deleted`, then its retryStrategy decides), or started again when the executor cannot attach.
 */
export function resumeWorkflow(
  compiled: CompiledWorkflow,
  persisted: Workflow,
  options: ControllerOptions,
): RunningWorkflow {
  return wrap(new WorkflowOperator(compiled, options, persisted));
}

function wrap(op: WorkflowOperator): RunningWorkflow {
  const done = op.run();
  return {
    name: op.name,
    done,
    snapshot: () => op.snapshot(),
    stop: (s) => op.stop(s),
    suspend: () => op.suspend(),
    resume: (sel) => op.resume(sel),
    setOutputParameters: (sel, values) => op.setOutputParameters(sel, values),
  };
}
