import type { TemplateHolder, TemplateScope } from "../spec/compiled.js";
import { nodeId as nodeIdOf } from "../spec/index.js";
import type { InvocationBase, NodePhase, NodeStatus, NodeType, Workflow } from "../spec/types.js";
import { holderTemplateName, type Invocation, iso, type NodeInit, type OperatorContext } from "./context.js";
import { displayNameOf, isExecutable, isFulfilled } from "./graph.js";

/*
 * Node records in `status.nodes`: creating a node in Argo's shape, phase transitions (with the workflow's
 * progress and phase listeners), children, and nodes that could not be set up (Error) or did not run
 * (Skipped).
 */

export function idOf(op: OperatorContext, name: string): string {
  return nodeIdOf(op.name, name);
}

export function nodeByName(op: OperatorContext, name: string): NodeStatus | undefined {
  return op.nodes[idOf(op, name)];
}

export function createNode(op: OperatorContext, init: NodeInit): NodeStatus {
  const id = idOf(op, init.name);
  const existing = op.nodes[id];
  if (existing) {
    if (existing.type !== init.type) existing.type = init.type;
    if (existing.phase !== init.phase) markPhase(op, existing, init.phase, init.message);
    return existing;
  }
  const now = iso(op.options.clock.now());
  const boundary = init.boundaryID ? op.nodes[init.boundaryID] : undefined;
  const node: NodeStatus = {
    id,
    name: init.name,
    displayName: init.displayName ?? displayNameOf(init.name, boundary?.name),
    type: init.type,
    phase: init.phase,
  };
  if (init.templateName) node.templateName = init.templateName;
  if (init.templateRef) node.templateRef = { ...init.templateRef };
  if (init.scope) node.templateScope = scopeText(op, init.scope);
  if (init.boundaryID) node.boundaryID = init.boundaryID;
  if (init.message) node.message = init.message;
  node.startedAt = now;
  if (isFulfilled(node)) node.finishedAt = now;
  if (init.flag && (init.flag.hooked || init.flag.retried)) node.nodeFlag = { ...init.flag };
  if (init.inputs && (init.inputs.parameters.length || init.inputs.artifacts.length)) {
    node.inputs = {};
    if (init.inputs.parameters.length) node.inputs.parameters = init.inputs.parameters;
    if (init.inputs.artifacts.length) node.inputs.artifacts = init.inputs.artifacts;
  }
  if (isExecutable(node.type)) {
    op.execTotal++;
    const complete = node.phase === "Succeeded" || node.phase === "Skipped" || node.phase === "Omitted";
    if (complete) op.execDone++;
    node.progress = complete ? "1/1" : "0/1";
    updateWorkflowProgress(op);
  }
  op.nodes[id] = node;
  op.emit({ type: "node-updated", workflow: op.wf, node });
  op.touch(node);
  return node;
}

export function scopeText(op: OperatorContext, scope: TemplateScope): string {
  return scope.id === "" ? `local/${op.name}` : scope.id;
}

export function markPhase(op: OperatorContext, node: NodeStatus, phase: NodePhase, message?: string): void {
  const previous = node.phase;
  if (previous === phase && (message === undefined || message === node.message)) return;
  const wasComplete = isExecutable(node.type) && node.progress === "1/1";
  node.phase = phase;
  if (message !== undefined) {
    if (message) node.message = message;
    else delete node.message;
  }
  if (isFulfilled(node) && !node.finishedAt) node.finishedAt = iso(op.options.clock.now());
  if (!isFulfilled(node)) delete node.finishedAt;
  if (isExecutable(node.type)) {
    const complete = phase === "Succeeded" || phase === "Skipped" || phase === "Omitted";
    if (complete && !wasComplete) {
      op.execDone++;
      node.progress = "1/1";
    } else if (!complete && wasComplete) {
      op.execDone--;
      node.progress = "0/1";
    }
    updateWorkflowProgress(op);
  }
  if (previous !== phase) {
    op.emit({ type: "node-updated", workflow: op.wf, node, previousPhase: previous });
    const listeners = op.phaseListeners.get(node.id);
    if (listeners) for (const l of listeners) l();
  }
  op.touch(node);
}

export function updateWorkflowProgress(op: OperatorContext): void {
  (op.wf.status as NonNullable<Workflow["status"]>).progress = `${op.execDone}/${op.execTotal}`;
}

export function addChild(op: OperatorContext, parent: NodeStatus, childId: string): void {
  let set = op.childSets.get(parent.id);
  if (!set) {
    set = new Set(parent.children ?? []);
    op.childSets.set(parent.id, set);
  }
  if (set.has(childId)) return;
  set.add(childId);
  (parent.children ??= []).push(childId);
  op.touch(parent);
}

export function onPhaseChange(op: OperatorContext, node: NodeStatus, fn: () => void): () => void {
  const list = op.phaseListeners.get(node.id) ?? [];
  list.push(fn);
  op.phaseListeners.set(node.id, list);
  return () => {
    const l = op.phaseListeners.get(node.id);
    if (!l) return;
    const i = l.indexOf(fn);
    if (i >= 0) l.splice(i, 1);
    if (!l.length) op.phaseListeners.delete(node.id);
  };
}

/** A node that could not be set up: created (or turned) into an Error node with the message. */
export function errorNode(
  op: OperatorContext,
  name: string,
  inv: Invocation,
  message: string,
  type: NodeType = "Skipped",
  holder?: TemplateHolder,
): NodeStatus {
  const existing = nodeByName(op, name);
  if (existing) {
    op.setupErrors.set(existing.id, message);
    markPhase(op, existing, "Error", message);
    return existing;
  }
  op.setupErrors.set(idOf(op, name), message);
  const node = createNode(op, {
    name,
    type,
    phase: "Error",
    boundaryID: inv.boundaryID,
    templateName: holder ? holderTemplateName(holder) : undefined,
    templateRef: holder?.templateRef,
    scope: inv.scope,
    message,
    flag: inv.flag,
  });
  inv.onCreate?.(node);
  return node;
}

export function skippedNode(
  op: OperatorContext,
  name: string,
  holder: InvocationBase,
  inv: Invocation,
  phase: NodePhase,
  message: string,
): NodeStatus {
  return createNode(op, {
    name,
    type: "Skipped",
    phase,
    boundaryID: inv.boundaryID,
    templateName: holder.template,
    templateRef: holder.templateRef,
    scope: inv.scope,
    message,
  });
}
