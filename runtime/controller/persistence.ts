import type { ControllerEvent } from "../interfaces/events.js";
import type { NodeStatus } from "../spec/types.js";
import type { OperatorContext } from "./context.js";
import { isFulfilled } from "./graph.js";

/*
 * Events and persistence: every transition marks the status dirty; transitions of one macrotask are
 * flushed together as one `workflow-updated` event and one `store.put`, carrying only the changed nodes
 * (node deltas) after the first, whole put.
 */

export function emit(op: OperatorContext, event: ControllerEvent): void {
  const l = op.options.onEvent;
  if (!l) return;
  try {
    l(event);
  } catch {
    // A reporter failing must never stall or fail a run.
  }
}

/** Marks the status (and `node`) changed; transitions within one macrotask are persisted together. */
export function touch(op: OperatorContext, node?: NodeStatus): void {
  if (node) {
    op.changedNodes.add(node.id);
    if (isFulfilled(node)) op.activeNodes.delete(node.id);
    else op.activeNodes.add(node.id);
  }
  op.dirty = true;
  if (op.flushScheduled) return;
  op.flushScheduled = true;
  setImmediate(() => {
    op.flushScheduled = false;
    void flush(op);
  });
}

export function flush(op: OperatorContext): Promise<void> {
  if (!op.dirty) return op.flushing;
  op.dirty = false;
  // Workflow-level hooks are re-evaluated once per batch of transitions, as Argo does per reconcile.
  if (!op.finished && op.wf.spec.hooks && op.wf.status?.phase === "Running") op.evaluateWorkflowHooks();
  const store = op.options.store;
  emit(op, { type: "workflow-updated", workflow: op.wf });
  // At most one put waits behind the one in flight: it writes the latest state when its turn comes, so a
  // slow store sees fewer, larger batches instead of a queue of stale copies.
  if (store && !op.putQueued) {
    op.putQueued = true;
    op.flushing = op.flushing.then(async () => {
      op.putQueued = false;
      for (const id of op.activeNodes) op.changedNodes.add(id);
      const changedNodes = op.wholePut ? undefined : [...op.changedNodes];
      op.wholePut = false;
      op.changedNodes.clear();
      try {
        await store.put(op.wf, changedNodes && { changedNodes });
      } catch {
        // Persistence failures are the store's to report; the run goes on, and the next put is whole.
        op.wholePut = true;
      }
    });
  }
  return op.flushing;
}
