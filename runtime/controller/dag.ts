import {
  dependenciesToDepends,
  type DependencyResult,
  dependsTaskNames,
  evaluateDepends,
  substitute,
} from "../expr/index.js";
import type { DAGTask, NodePhase, NodeStatus, Template } from "../spec/types.js";
import {
  type Boundary,
  FAIL_FAST_MESSAGE,
  type Invocation,
  messageOf,
  NodeOutcome,
  type OperatorContext,
  type ProcessedInputs,
} from "./context.js";
import { isCompleted, isFailedOrError, outboundNodes } from "./graph.js";
import { expandLoopOrSkip, narrowVars, resultReferences } from "./scope.js";
import { continues } from "./support.js";
import { LayeredVars, SiblingScope } from "./vars.js";

/*
 * DAG templates: each task starts once its `depends` / `dependencies` are fulfilled; the DAG's phase is
 * assessed from its targets as Argo does.
 */

export async function executeDag(
  op: OperatorContext,
  node: NodeStatus,
  template: Template,
  vars: LayeredVars,
  childInv: Invocation,
  inputs: ProcessedInputs,
): Promise<void> {
  const dag = template.dag ?? { tasks: [] };
  const boundary = op.newBoundary(node, template);
  const scope = new SiblingScope("tasks", vars, childInv.scope);
  for (const a of inputs.artifacts) scope.artifacts.set(`inputs.artifacts.${a.name}`, a);
  const parentJson = resultReferences(JSON.stringify(template));
  const tasks = new Map<string, DAGTask>(dag.tasks.map((t) => [t.name, t]));
  const depsOf = new Map<string, string[]>();
  for (const t of dag.tasks) {
    if (t.depends) depsOf.set(t.name, dependsTaskNames(t.depends));
    else depsOf.set(t.name, [...(t.dependencies ?? [])]);
  }
  let targets: string[];
  if (dag.target) {
    targets = substitute(dag.target, vars).split(/\s+/).filter(Boolean);
  } else {
    const dependedOn = new Set<string>();
    for (const d of depsOf.values()) for (const x of d) dependedOn.add(x);
    targets = dag.tasks
      .map((t) => t.name)
      .filter((n) => !dependedOn.has(n))
      .sort();
  }
  const taskNodes = new Map<string, NodeStatus>();
  const done = new Map<string, Promise<void>>();
  const inv: Invocation = { ...childInv, boundary };

  const runTask = (name: string): Promise<void> => {
    let p = done.get(name);
    if (p) return p;
    p = (async () => {
      const task = tasks.get(name);
      if (!task) return;
      const deps = depsOf.get(name) ?? [];
      await Promise.all(deps.map(runTask));
      if (boundary.tripped) return;
      await executeDagTask(op, task, deps, node, scope, boundary, inv, taskNodes, tasks, parentJson);
    })();
    done.set(name, p);
    return p;
  };
  try {
    await Promise.all(targets.map(runTask));
    await op.killDaemons(boundary);
    if (boundary.tripped) throw new NodeOutcome("Failed", FAIL_FAST_MESSAGE);
    const phase = assessDagPhase(
      op,
      node,
      targets,
      taskNodes,
      tasks,
      dag.failFast !== false,
      childInv.onExit,
    );
    if (phase !== "Succeeded") throw new NodeOutcome(phase, "");
    node.outputs = op.templateOutputs(template, scope);
    if (!node.outputs) delete node.outputs;
  } finally {
    await op.killDaemons(boundary);
    const outbound = new Set<string>();
    for (const t of targets) {
      const tn = taskNodes.get(t);
      if (!tn) continue;
      for (const o of outboundNodes(op.nodes, tn.id)) outbound.add(o);
    }
    if (outbound.size) node.outboundNodes = [...outbound];
  }
}

export async function executeDagTask(
  op: OperatorContext,
  task: DAGTask,
  deps: string[],
  dagNode: NodeStatus,
  scope: SiblingScope,
  boundary: Boundary,
  inv: Invocation,
  taskNodes: Map<string, NodeStatus>,
  tasks: Map<string, DAGTask>,
  parentJson: (name: string) => boolean,
): Promise<void> {
  const nodeName = `${dagNode.name}.${task.name}`;
  const wire = (n: NodeStatus) => {
    taskNodes.set(task.name, n);
    if (!deps.length) op.addChild(dagNode, n.id);
    for (const d of deps) {
      const dn = taskNodes.get(d);
      if (!dn) continue;
      for (const o of outboundNodes(op.nodes, dn.id)) {
        const out = op.nodes[o];
        if (out) op.addChild(out, n.id);
      }
    }
  };
  const taskInv: Invocation = {
    ...inv,
    local: ["tasks.name", task.name],
    captureResult: parentJson(task.name),
    onCreate: wire,
  };
  const finish = (n: NodeStatus | undefined) => {
    if (n) op.recordSibling(scope, task.name, n, task);
  };
  if (deps.length) {
    const depends = task.depends ?? dependenciesToDepends(deps);
    const results: Record<string, DependencyResult> = {};
    for (const d of deps) {
      const dn = taskNodes.get(d);
      const dt = tasks.get(d);
      const r: DependencyResult = {};
      if (dn) {
        r.phase = dn.phase;
        if (dn.daemoned) r.daemoned = true;
        if (dn.type === "TaskGroup") {
          r.isLoop = true;
          const kids = (dn.children ?? []).map((c) => op.nodes[c]).filter((c): c is NodeStatus => !!c);
          r.anySucceeded = kids.some((k) => k.phase === "Succeeded");
          r.allFailed = kids.length > 0 && kids.every((k) => k.phase === "Failed");
        }
      }
      if (dt?.continueOn) r.continueOn = dt.continueOn;
      results[d] = r;
    }
    let ok: boolean;
    try {
      ok = evaluateDepends(depends, results);
    } catch (e) {
      const n = op.skippedNode(nodeName, task, inv, "Error", messageOf(e));
      wire(n);
      return finish(n);
    }
    if (!ok) {
      const n = op.skippedNode(nodeName, task, inv, "Omitted", "omitted: depends condition not met");
      wire(n);
      return finish(n);
    }
  }
  const loop =
    task.withItems !== undefined || task.withParam !== undefined || task.withSequence !== undefined;
  try {
    if (!loop) {
      if (task.when) {
        let ok: boolean;
        try {
          ok = op.shouldExecute(task.when, scope.vars, "tasks");
        } catch (e) {
          const n = op.skippedNode(nodeName, task, inv, "Error", messageOf(e));
          wire(n);
          return finish(n);
        }
        if (!ok) {
          const n = op.skippedNode(
            nodeName,
            task,
            inv,
            "Skipped",
            `when '${substitute(task.when, narrowVars(task.when ?? "", scope.vars))}' evaluated false`,
          );
          wire(n);
          return finish(n);
        }
      }
      let resolved: { step: DAGTask; absentRefs: Record<string, string> };
      try {
        resolved = op.resolveInvocation(task, scope);
      } catch (e) {
        const n = op.skippedNode(nodeName, task, inv, "Error", messageOf(e));
        wire(n);
        return finish(n);
      }
      let hooks: (() => Promise<void>) | undefined;
      const n = await op.executeTemplate(
        nodeName,
        resolved.step,
        resolved.step.arguments ?? {},
        {
          ...taskInv,
          onCreate: (created) => {
            wire(created);
            hooks ??= op.watchStepHooks(created, task, scope, inv);
          },
        },
        resolved.absentRefs,
      );
      if (!n) return;
      markTaskSetupError(op, n);
      await (hooks ?? (() => op.runStepHooks(n, task, scope, inv)))();
      return finish(n);
    }
    const expanded = expandLoopOrSkip(op, task, scope);
    if ("skipped" in expanded) {
      const n = op.skippedNode(nodeName, task, inv, "Skipped", `when '${expanded.skipped}' evaluated false`);
      wire(n);
      return finish(n);
    }
    const items = expanded.items;
    if (!items.length) {
      const n = op.skippedNode(nodeName, task, inv, "Skipped", "Skipped, empty params");
      wire(n);
      return finish(n);
    }
    const group = op.createNode({
      name: nodeName,
      type: "TaskGroup",
      phase: "Running",
      boundaryID: inv.boundaryID,
      templateName: task.template,
      templateRef: task.templateRef,
      scope: inv.scope,
    });
    wire(group);
    const children: NodeStatus[] = [];
    const runs = items.map(async (item) => {
      const childName = `${nodeName}(${item.index}:${item.desc})`;
      const itemVars = new LayeredVars(scope.vars, item.vars);
      const childInv: Invocation = {
        ...taskInv,
        onCreate: (n) => {
          op.addChild(group, n.id);
          children.push(n);
        },
      };
      if (task.when) {
        let ok: boolean;
        try {
          ok = op.shouldExecute(task.when, itemVars, "tasks");
        } catch (e) {
          const n = op.skippedNode(childName, task, inv, "Error", messageOf(e));
          childInv.onCreate?.(n);
          return;
        }
        if (!ok) {
          const n = op.skippedNode(
            childName,
            task,
            inv,
            "Skipped",
            `when '${substitute(task.when, narrowVars(task.when ?? "", itemVars))}' evaluated false`,
          );
          childInv.onCreate?.(n);
          return;
        }
      }
      let resolved: { step: DAGTask; absentRefs: Record<string, string> };
      try {
        resolved = op.resolveInvocation(task, scope, item.vars);
      } catch (e) {
        const n = op.skippedNode(childName, task, inv, "Error", messageOf(e));
        childInv.onCreate?.(n);
        return;
      }
      let hooks: (() => Promise<void>) | undefined;
      const n = await op.executeTemplate(
        childName,
        resolved.step,
        resolved.step.arguments ?? {},
        {
          ...childInv,
          onCreate: (created) => {
            childInv.onCreate?.(created);
            hooks ??= op.watchStepHooks(created, task, scope, inv);
          },
        },
        resolved.absentRefs,
      );
      if (!n) return;
      markTaskSetupError(op, n);
      await (hooks ?? (() => op.runStepHooks(n, task, scope, inv)))();
    });
    await Promise.all(runs);
    let phase: NodePhase = "Succeeded";
    for (const id of group.children ?? []) {
      const c = op.nodes[id];
      if (c && isFailedOrError(c.phase)) phase = c.phase;
    }
    // Argo gives a TaskGroup its phase only, never a message.
    op.markPhase(group, phase);
    op.recordLoop(scope, task.name, group, children, task);
  } catch (e) {
    const n = op.nodeByName(nodeName) ?? op.skippedNode(nodeName, task, inv, "Error", messageOf(e));
    if (!taskNodes.has(task.name)) wire(n);
    op.markPhase(n, "Error", messageOf(e));
    finish(n);
  }
}

/** A DAG task whose template could not be set up: Argo's `task '<node>' errored: <error>`. */
export function markTaskSetupError(op: OperatorContext, node: NodeStatus): void {
  const error = op.setupErrors.get(node.id);
  if (error === undefined) return;
  op.markPhase(node, "Error", `task '${node.name}' errored: ${error}`);
}

/** Argo's assessDAGPhase over the created task nodes. */
export function assessDagPhase(
  op: OperatorContext,
  dagNode: NodeStatus,
  targets: string[],
  taskNodes: Map<string, NodeStatus>,
  tasks: Map<string, DAGTask>,
  failFast: boolean,
  onExit: boolean,
): NodePhase {
  if (op.shutdown && !onExit) return "Failed";
  const targetIds = new Map<string, string>();
  for (const t of targets) {
    const n = taskNodes.get(t);
    if (n) targetIds.set(n.id, t);
  }
  const branch = new Map<string, NodePhase>();
  const seen = new Set<string>();
  const queue: { id: string; phase: NodePhase }[] = (dagNode.children ?? []).map((id) => ({
    id,
    phase: "Succeeded",
  }));
  for (let qi = 0; qi < queue.length; qi++) {
    const { id, phase } = queue[qi] as { id: string; phase: NodePhase };
    const n = op.nodes[id];
    if (!n) continue;
    const p: NodePhase = isCompleted(n.phase) ? n.phase : phase;
    if (targetIds.has(id)) {
      const prev = branch.get(id);
      if (!prev || !isFailedOrError(prev)) branch.set(id, p);
    }
    const key = id + "|" + p;
    if (seen.has(key)) continue;
    seen.add(key);
    let next = n.children ?? [];
    if (n.type === "Retry") {
      // A Retry node mirrors its last attempt; the traversal goes on from that attempt's children.
      const attempts = next.filter((c) => op.nodes[c]?.nodeFlag?.retried);
      const last = attempts[attempts.length - 1];
      next = last ? (op.nodes[last]?.children ?? []) : [];
    }
    for (const c of next) {
      const child = op.nodes[c];
      if (child?.nodeFlag?.hooked) continue;
      queue.push({ id: c, phase: p });
    }
  }
  let result: NodePhase = "Succeeded";
  for (const t of targets) {
    const n = taskNodes.get(t);
    if (!n) continue;
    const p = branch.get(n.id) ?? n.phase;
    const task = tasks.get(t);
    if (isFailedOrError(p) && !continues(task, p)) {
      result = p;
      if (failFast) break;
    }
  }
  return result;
}
