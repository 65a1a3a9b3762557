import { evaluateExpression } from "../expr/index.js";
import type { ResolvedTemplate, TemplateHolder } from "../spec/compiled.js";
import { parseDuration } from "../spec/index.js";
import type { NodeStatus, RetryStrategy } from "../spec/types.js";
import {
  attemptName,
  FAIL_FAST_MESSAGE,
  holderTemplateName,
  type Invocation,
  messageOf,
  type OperatorContext,
  type ProcessedInputs,
} from "./context.js";
import { isFailedOrError } from "./graph.js";
import { durationSeconds, goTime, humanizeDuration, isTransient } from "./support.js";

/*
 * Argo's `retryStrategy` (limit, retryPolicy, expression, backoff): a Retry node whose children are the
 * attempts `name(0)`, `name(1)`, ... Not to be confused with `argo retry` (workflow-retry.ts).
 */

export async function executeRetry(
  op: OperatorContext,
  nodeName: string,
  holder: TemplateHolder,
  rt: ResolvedTemplate,
  inputs: ProcessedInputs,
  inv: Invocation,
  strategy: RetryStrategy,
): Promise<NodeStatus | undefined> {
  if (inv.boundary?.tripped) return undefined;
  const retryNode = op.createNode({
    name: nodeName,
    type: "Retry",
    phase: "Running",
    boundaryID: inv.boundaryID,
    templateName: holderTemplateName(holder),
    templateRef: rt.templateRef,
    scope: inv.scope,
    flag: inv.flag,
    inputs,
  });
  inv.onCreate?.(retryNode);
  const limit = strategy.limit === undefined ? undefined : Number(strategy.limit);
  const policy =
    strategy.retryPolicy ?? (strategy.expression && strategy.limit === undefined ? "Always" : "OnFailure");
  const backoff = strategy.backoff;
  let firstStart: number | undefined;
  let last: NodeStatus | undefined;
  for (let k = 0; ; k++) {
    const attemptInv: Invocation = {
      ...inv,
      flag: { ...(inv.flag ?? {}), retried: true },
      onCreate: (n) => op.addChild(retryNode, n.id),
      memo: undefined,
    };
    const lastRetry = last
      ? {
          "lastRetry.exitCode": last.outputs?.exitCode ?? "-1",
          "lastRetry.status": last.phase,
          "lastRetry.duration": String(durationSeconds(last)),
          "lastRetry.message": last.message ?? "",
        }
      : {
          "lastRetry.exitCode": "0",
          "lastRetry.status": "",
          "lastRetry.duration": "0",
          "lastRetry.message": "",
        };
    const attempt = await op.executeNode(attemptName(nodeName, k), holder, rt, inputs, attemptInv, {
      retries: String(k),
      ...lastRetry,
    });
    if (!attempt) {
      if (!last) {
        op.markPhase(retryNode, "Failed", FAIL_FAST_MESSAGE);
        return retryNode;
      }
      break;
    }
    last = attempt;
    firstStart ??= Date.parse(attempt.startedAt ?? "") || op.options.clock.now();
    if (attempt.daemoned && attempt.phase === "Running") {
      retryNode.daemoned = true;
      if (attempt.podIP) retryNode.podIP = attempt.podIP;
      op.onPhaseChange(attempt, () => {
        if (attempt.phase !== "Running" && attempt.phase !== "Pending") {
          op.markPhase(retryNode, attempt.phase, attempt.message ?? "");
        }
      });
      op.markPhase(retryNode, "Running");
      return retryNode;
    }
    if (attempt.phase === "Succeeded") {
      if (attempt.outputs) retryNode.outputs = structuredClone(attempt.outputs);
      if (attempt.hostNodeName) retryNode.hostNodeName = attempt.hostNodeName;
      op.markPhase(retryNode, "Succeeded", "");
      return retryNode;
    }
    const fail = (message: string) => {
      if (attempt.outputs) retryNode.outputs = structuredClone(attempt.outputs);
      op.markPhase(retryNode, attempt.phase, message);
      return retryNode;
    };
    if (op.shutdown) return fail(`Stopped with strategy '${op.shutdown}'`);
    if (op.deadlineExceeded && !inv.onExit) {
      return fail(`retry exceeded workflow deadline ${goTime(op.deadline ?? 0)}`);
    }
    let waitMs = 0;
    let timeToWait = 0;
    if (backoff) {
      const now = op.options.clock.now();
      const maxMs = backoff.maxDuration !== undefined ? parseDuration(backoff.maxDuration) : undefined;
      if (maxMs !== undefined && now > firstStart + maxMs) return fail("Max duration limit exceeded");
      if (backoff.duration === undefined || backoff.duration === "") {
        op.markPhase(retryNode, "Error", "no base duration specified for retryStrategy");
        return retryNode;
      }
      const base = parseDuration(backoff.duration);
      const factor = backoff.factor !== undefined ? Number(backoff.factor) : 0;
      // Argo: duration * factor^(attempts - 1), clipped to cap, counted from the last attempt's end.
      timeToWait = factor > 0 ? base * Math.pow(factor, k) : base;
      if (backoff.cap !== undefined && backoff.cap !== "")
        timeToWait = Math.min(timeToWait, parseDuration(backoff.cap));
      const finishedAt = Date.parse(attempt.finishedAt ?? "") || now;
      const waitingDeadline = finishedAt + timeToWait;
      if (maxMs !== undefined && waitingDeadline > firstStart + maxMs) {
        return fail("Backoff would exceed max duration limit");
      }
      waitMs = Math.max(0, waitingDeadline - now);
    }
    const retryable =
      policy === "Always"
        ? isFailedOrError(attempt.phase)
        : policy === "OnFailure"
          ? attempt.phase === "Failed"
          : policy === "OnError"
            ? attempt.phase === "Error"
            : isTransient(attempt.message);
    if (!retryable) return fail(attempt.message ?? "");
    if (limit !== undefined && k + 1 > limit) return fail("No more retries left");
    if (strategy.expression) {
      let ok: boolean;
      try {
        // Argo's buildRetryStrategyLocalScope: `retries` is the last attempt's index.
        const env = new Map<string, string | null>([
          ["retries", String(k)],
          ["lastRetry.exitCode", attempt.outputs?.exitCode ?? "-1"],
          ["lastRetry.status", attempt.phase],
          ["lastRetry.duration", String(durationSeconds(attempt))],
          ["lastRetry.message", attempt.message ?? ""],
        ]);
        ok = evaluateExpression(strategy.expression, env) === true;
      } catch (e) {
        op.markPhase(retryNode, "Error", messageOf(e));
        return retryNode;
      }
      if (!ok) return fail("retryStrategy.expression evaluated to false");
    }
    if (waitMs > 0 && limit !== undefined) {
      op.markPhase(retryNode, "Running", `Backoff for ${humanizeDuration(timeToWait)}`);
      const cancelled = await backoffWait(op, retryNode, waitMs);
      if (cancelled) {
        if (op.shutdown) return fail(`Stopped with strategy '${op.shutdown}'`);
        return fail(`retry exceeded workflow deadline ${goTime(op.deadline ?? 0)}`);
      }
      op.markPhase(retryNode, "Running", "");
    }
  }
  return retryNode;
}

export function backoffWait(op: OperatorContext, node: NodeStatus, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const entry = {
      node,
      cancel: () => {
        op.options.clock.clearTimer(timer);
        op.backoffs.delete(entry);
        resolve(true);
      },
    };
    const timer = op.options.clock.setTimer(ms, () => {
      op.backoffs.delete(entry);
      resolve(false);
    });
    op.backoffs.add(entry);
  });
}
