import { substituteObject } from "../expr/index.js";
import type { PrometheusMetric } from "../interfaces/metrics.js";
import type { ResolvedTemplate, TemplateHolder } from "../spec/compiled.js";
import type { Arguments, NodeStatus, RetryStrategy, Template } from "../spec/types.js";
import {
  holderTemplateName,
  type Invocation,
  MAX_DEPTH,
  messageOf,
  NodeOutcome,
  nodeTypeOfTemplate,
  type OperatorContext,
  type ProcessedInputs,
} from "./context.js";
import { isFailedOrError, isFulfilled } from "./graph.js";
import { LimiterClosed, type LockRequest } from "./limits.js";
import { metricDefinitions } from "./metrics.js";

/*
 * Argo's executeTemplate: resolve the template a step/task/hook names, process its inputs, check
 * memoization, apply retryStrategy, then create the node and run it by template type (steps, DAG, suspend
 * or a pod-like leaf) inside its parallelism slots and synchronization locks.
 */

/**
 * Executes the template a holder names as node `nodeName`. Resolves when the node is fulfilled (a ready
 * daemon counts), or `undefined` when it was never created (its boundary failed fast, or shutdown).
 * The template's custom metrics are emitted as Argo does: realtime gauges when the node is created, the
 * others once it completed in this run.
 */
export async function executeTemplate(
  op: OperatorContext,
  nodeName: string,
  holder: TemplateHolder,
  args: Arguments,
  inv: Invocation,
  absentRefs: Record<string, string> = {},
): Promise<NodeStatus | undefined> {
  let metrics: PrometheusMetric[] = [];
  if (op.options.metrics) {
    try {
      metrics = metricDefinitions(op.templates.resolve(holder, inv.scope).template.metrics);
    } catch {
      // An unresolvable template becomes an Error node below; it has no metrics.
    }
  }
  const before = op.nodeByName(nodeName);
  if (metrics.length === 0 || (before && isFulfilled(before)))
    return runTemplate(op, nodeName, holder, args, inv, absentRefs);
  let started = false;
  const start = (n: NodeStatus) => {
    if (started) return;
    started = true;
    op.emitNodeMetrics(metrics, n, "start");
  };
  if (before) start(before);
  const onCreate = inv.onCreate;
  const node = await runTemplate(
    op,
    nodeName,
    holder,
    args,
    {
      ...inv,
      onCreate: (n) => {
        onCreate?.(n);
        start(n);
      },
    },
    absentRefs,
  );
  if (node && isFulfilled(node)) op.emitNodeMetrics(metrics, node, "end");
  return node;
}

export async function runTemplate(
  op: OperatorContext,
  nodeName: string,
  holder: TemplateHolder,
  args: Arguments,
  inv: Invocation,
  absentRefs: Record<string, string>,
): Promise<NodeStatus | undefined> {
  const existing = op.nodeByName(nodeName);
  if (existing && isFulfilled(existing) && !(existing.type === "Pod" && existing.daemoned)) {
    inv.onCreate?.(existing);
    return existing;
  }
  if (op.suspended) await op.whileSuspended();
  let rt: ResolvedTemplate;
  try {
    rt = op.templates.resolve(holder, inv.scope);
  } catch (e) {
    return op.errorNode(nodeName, inv, messageOf(e), "Skipped", holder);
  }
  if (inv.depth > MAX_DEPTH) {
    return op.errorNode(
      nodeName,
      inv,
      "Maximum recursion depth exceeded. See https://argo-workflows.readthedocs.io/en/latest/scaling/#maximum-recursion-depth",
      "Skipped",
      holder,
    );
  }
  let inputs: ProcessedInputs;
  try {
    inputs = op.processInputs(rt.template, args, absentRefs);
  } catch (e) {
    return op.errorNode(nodeName, inv, messageOf(e), "Skipped", holder);
  }
  const baseVars = op.templateVars(rt, inputs, nodeName, inv);
  const template = rt.template;

  if (template.memoize) {
    let hit: NodeStatus | undefined;
    try {
      hit = await op.checkMemo(nodeName, holder, rt, inputs, baseVars, inv);
    } catch (e) {
      return op.errorNode(nodeName, inv, messageOf(e), nodeTypeOfTemplate(template), holder);
    }
    if (hit) return hit;
  }

  let retry: RetryStrategy | undefined = template.retryStrategy ?? op.wf.spec.retryStrategy;
  if (retry) {
    try {
      retry = substituteObject<RetryStrategy>(retry, baseVars);
    } catch (e) {
      return op.errorNode(nodeName, inv, messageOf(e), "Skipped", holder);
    }
    const retryNode = await op.executeRetry(nodeName, holder, rt, inputs, inv, retry as RetryStrategy);
    if (retryNode && isFulfilled(retryNode)) {
      op.exportOutputs(retryNode.outputs, op.globals);
      await op.saveMemo(retryNode, inv);
    }
    return retryNode;
  }
  return executeNode(op, nodeName, holder, rt, inputs, inv, {});
}

export async function executeNode(
  op: OperatorContext,
  nodeName: string,
  holder: TemplateHolder,
  rt: ResolvedTemplate,
  inputs: ProcessedInputs,
  inv: Invocation,
  extraVars: Record<string, string>,
): Promise<NodeStatus | undefined> {
  const existing = op.nodeByName(nodeName);
  if (existing && isFulfilled(existing)) {
    inv.onCreate?.(existing);
    return existing;
  }
  const type = nodeTypeOfTemplate(rt.template);
  const boundary = inv.boundary;
  const counts = type === "Pod" || type === "Steps" || type === "DAG";
  let boundarySlot = false;
  let podSlot = false;
  const releaseSlots = () => {
    if (boundarySlot) boundary?.limiter?.release();
    if (podSlot) op.workflowLimiter?.release();
    boundarySlot = podSlot = false;
  };
  try {
    if (boundary?.tripped) return undefined;
    // Only wait when a slot is not free now, so nodes are created in step order within one pass.
    if (counts && boundary?.limiter) {
      if (!boundary.limiter.tryAcquire()) await boundary.limiter.acquire();
      boundarySlot = true;
    }
    // A node that waits for a lock does not count as an active pod (Argo), so it takes its workflow
    // slot only once it holds the lock.
    if (type === "Pod" && op.workflowLimiter && !inv.onExit && !rt.template.synchronization) {
      if (!op.workflowLimiter.tryAcquire()) await op.workflowLimiter.acquire();
      podSlot = true;
    }
    if (boundary?.tripped) {
      releaseSlots();
      return undefined;
    }
  } catch (e) {
    releaseSlots();
    if (e instanceof LimiterClosed) return undefined;
    throw e;
  }
  if (op.suspended) await op.whileSuspended();

  const node = op.createNode({
    name: nodeName,
    type,
    phase: type === "Steps" || type === "DAG" ? "Running" : "Pending",
    boundaryID: inv.boundaryID,
    templateName: holderTemplateName(holder),
    templateRef: rt.templateRef,
    scope: inv.scope,
    flag: inv.flag,
    inputs,
    ...(rt.template.metadata?.annotations?.["workflows.argoproj.io/display-name"]
      ? { displayName: rt.template.metadata.annotations["workflows.argoproj.io/display-name"] }
      : {}),
  });
  inv.onCreate?.(node);

  let locks: LockRequest[] = [];
  const holderKey = `${op.namespace}/${op.name}/${node.id}`;
  let finishedInBackground = false;
  try {
    const vars = op.templateVars(rt, inputs, nodeName, inv, extraVars);
    locks = op.lockRequests(rt.template.synchronization, vars);
    const pendingAt = op.pendingDeadline(node, rt.template, vars);
    if (locks.length) await op.acquireNodeLocks(node, holderKey, locks, pendingAt);
    if (type === "Pod" && op.workflowLimiter && !inv.onExit && !podSlot) {
      const limiter = op.workflowLimiter;
      if (!limiter.tryAcquire())
        await op.untilPendingDeadline(limiter.acquire(), pendingAt, () => limiter.release());
      podSlot = true;
    }
    let template: Template;
    try {
      template = substituteObject(rt.template, vars);
    } catch (e) {
      op.setupErrors.set(node.id, messageOf(e));
      throw new NodeOutcome("Error", messageOf(e));
    }
    const childInv: Invocation = {
      boundaryID: node.id,
      boundary: undefined,
      scope: rt.scope,
      depth: inv.depth + 1,
      onExit: inv.onExit,
      captureResult: false,
    };
    switch (type) {
      case "Steps":
        await op.executeSteps(node, template, vars, childInv, inputs);
        break;
      case "DAG":
        await op.executeDag(node, template, vars, childInv, inputs);
        break;
      case "Suspend":
        await op.executeSuspend(node, template, inputs);
        break;
      default: {
        const bg = await op.executeLeaf(node, template, rt, inputs, inv, releaseSlots, () => {
          if (locks.length) op.sync.release(holderKey, locks);
        });
        if (bg) finishedInBackground = true;
      }
    }
    if (!isFulfilled(node)) op.markPhase(node, "Succeeded");
  } catch (e) {
    if (e instanceof NodeOutcome) op.markPhase(node, e.phase, e.message);
    else op.markPhase(node, "Error", messageOf(e));
  } finally {
    // Trip failFast before freeing the slot, so a queued sibling does not start in between.
    if (boundary?.failFast && counts && isFailedOrError(node.phase)) op.tripFailFast(boundary);
    if (!finishedInBackground) {
      releaseSlots();
      if (locks.length) op.sync.release(holderKey, locks);
    }
  }
  op.exportOutputs(node.outputs, op.globals);
  await op.saveMemo(node, inv);
  if (boundary && boundary.failFast && isFailedOrError(node.phase) && counts) op.tripFailFast(boundary);
  return node;
}
