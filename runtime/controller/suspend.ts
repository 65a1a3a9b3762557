import { SkiffError } from "../errors/index.js";
import { parseDuration } from "../spec/index.js";
import type { NodePhase, NodeStatus, Parameter, Template } from "../spec/types.js";
import { CONTROLLER_CODES } from "./codes.js";
import {
  DEADLINE_MESSAGE,
  messageOf,
  NodeOutcome,
  type OperatorContext,
  type ProcessedInputs,
  type SuspendWaiter,
} from "./context.js";

/*
 * Suspend: `suspend` templates (with `duration` and supplied output parameters) and the workflow-level
 * `spec.suspend` that holds back new nodes until resumed.
 */

const C = CONTROLLER_CODES;

export function resumeAll(op: OperatorContext): void {
  op.suspended = false;
  delete op.wf.spec.suspend;
  for (const w of op.suspendWaiters.splice(0)) w();
}

/** Waits while `spec.suspend` is set: no new nodes are created then. */
export async function whileSuspended(op: OperatorContext): Promise<void> {
  while (op.suspended && !op.shutdown) {
    await new Promise<void>((r) => op.suspendWaiters.push(r));
  }
}

export async function executeSuspend(
  op: OperatorContext,
  node: NodeStatus,
  template: Template,
  inputs: ProcessedInputs,
): Promise<void> {
  const supplied = (template.outputs?.parameters ?? []).filter((p) => p.valueFrom?.supplied);
  if (supplied.length) {
    node.outputs = {
      parameters: supplied.map((p) => {
        const out: Parameter = { name: p.name, valueFrom: { ...p.valueFrom } };
        const def = p.valueFrom?.default ?? inputs.parameters.find((i) => i.name === p.name)?.default;
        if (def !== undefined && out.valueFrom) out.valueFrom.default = def;
        if (p.globalName) out.globalName = p.globalName;
        return out;
      }),
    };
  }
  if (op.shutdown) throw new NodeOutcome("Failed", `Stopped with strategy '${op.shutdown}'`);
  if (op.deadlineExceeded) throw new NodeOutcome("Failed", DEADLINE_MESSAGE);
  op.markPhase(node, "Running");
  const outcome = await new Promise<{ phase: NodePhase; message?: string }>((resolve) => {
    const waiter: SuspendWaiter = {
      node,
      resolve: (o) => {
        if (waiter.timer) op.options.clock.clearTimer(waiter.timer);
        op.suspends.delete(waiter);
        resolve(o);
      },
    };
    const duration = template.suspend?.duration;
    if (duration !== undefined && duration !== "") {
      const ms = parseDuration(duration);
      const startedAt = Date.parse(node.startedAt ?? "") || op.options.clock.now();
      const remaining = startedAt + ms - op.options.clock.now();
      waiter.timer = op.options.clock.setTimer(Math.max(0, remaining), () => {
        try {
          fillSuppliedDefaults(op, node);
          waiter.resolve({ phase: "Succeeded" });
        } catch (e) {
          waiter.resolve({ phase: "Error", message: messageOf(e) });
        }
      });
    }
    op.suspends.add(waiter);
  });
  op.markPhase(node, outcome.phase, outcome.message ?? "");
}

export function checkSuppliedDefaults(op: OperatorContext, node: NodeStatus): void {
  for (const p of node.outputs?.parameters ?? []) {
    if (p.value === undefined && p.valueFrom?.default === undefined) {
      throw new SkiffError(
        C["SKF-CTRL-010"],
        `raw output parameter '${p.name}' has not been set and does not have a default value`,
      );
    }
  }
}

export function fillSuppliedDefaults(op: OperatorContext, node: NodeStatus): void {
  for (const p of node.outputs?.parameters ?? []) {
    if (p.value !== undefined) continue;
    if (p.valueFrom?.default !== undefined) p.value = p.valueFrom.default;
    else
      throw new SkiffError(
        C["SKF-CTRL-010"],
        `raw output parameter '${p.name}' has not been set and does not have a default value`,
      );
  }
}
