import { substitute } from "../expr/index.js";
import type { NodeStatus, Template, WorkflowStep } from "../spec/types.js";
import {
  type Boundary,
  FAIL_FAST_MESSAGE,
  type Invocation,
  messageOf,
  NodeOutcome,
  type OperatorContext,
  type ProcessedInputs,
} from "./context.js";
import { isFailedOrError, outboundNodes } from "./graph.js";
import { expandLoopOrSkip, narrowVars, resultReferences } from "./scope.js";
import { continues } from "./support.js";
import { LayeredVars, SiblingScope } from "./vars.js";

/*
 * Steps templates: step groups run one after another, the steps of one group in parallel, each group a
 * StepGroup node wired to the outbound nodes of the group before it.
 */

export async function executeSteps(
  op: OperatorContext,
  node: NodeStatus,
  template: Template,
  vars: LayeredVars,
  childInv: Invocation,
  inputs: ProcessedInputs,
): Promise<void> {
  const boundary = op.newBoundary(node, template);
  const scope = new SiblingScope("steps", vars, childInv.scope);
  for (const a of inputs.artifacts) scope.artifacts.set(`inputs.artifacts.${a.name}`, a);
  const parentJson = resultReferences(JSON.stringify(template));
  const groups = template.steps ?? [];
  let lastGroup: NodeStatus | undefined;
  try {
    for (let i = 0; i < groups.length; i++) {
      const sgName = `${node.name}[${i}]`;
      const sg = op.createNode({
        name: sgName,
        type: "StepGroup",
        phase: "Running",
        boundaryID: node.id,
        scope: childInv.scope,
      });
      if (i === 0) op.addChild(node, sg.id);
      else if (lastGroup) {
        if (!lastGroup.children?.length) op.addChild(lastGroup, sg.id);
        else
          for (const c of lastGroup.children) {
            for (const o of outboundNodes(op.nodes, c)) {
              const out = op.nodes[o];
              if (out) op.addChild(out, sg.id);
            }
          }
      }
      lastGroup = sg;
      await executeStepGroup(op, sg, groups[i] ?? [], scope, boundary, { ...childInv, boundary }, parentJson);
      if (boundary.tripped) {
        op.markPhase(sg, "Failed", FAIL_FAST_MESSAGE);
        throw new NodeOutcome("Failed", FAIL_FAST_MESSAGE);
      }
      if (isFailedOrError(sg.phase)) throw new NodeOutcome("Failed", sg.message ?? "");
    }
    await op.killDaemons(boundary);
    node.outputs = op.templateOutputs(template, scope);
    if (!node.outputs) delete node.outputs;
  } finally {
    await op.killDaemons(boundary);
    if (lastGroup) {
      const outbound = new Set<string>();
      for (const c of lastGroup.children ?? []) {
        for (const o of outboundNodes(op.nodes, c)) outbound.add(o);
      }
      if (outbound.size) node.outboundNodes = [...outbound];
    }
  }
}

export async function executeStepGroup(
  op: OperatorContext,
  sg: NodeStatus,
  steps: WorkflowStep[],
  scope: SiblingScope,
  boundary: Boundary,
  inv: Invocation,
  parentJson: (name: string) => boolean,
): Promise<void> {
  const runs: Promise<void>[] = [];
  const childSteps = new Map<string, WorkflowStep>();
  const loops: { step: WorkflowStep; children: NodeStatus[] }[] = [];
  const singles: { step: WorkflowStep; node: () => NodeStatus | undefined }[] = [];
  let groupError: string | undefined;

  const launch = (
    name: string,
    step: WorkflowStep,
    absentRefs: Record<string, string>,
    loopChildren?: NodeStatus[],
  ) => {
    const childName = `${sg.name}.${name}`;
    let created: NodeStatus | undefined;
    let hooks: (() => Promise<void>) | undefined;
    const run = async () => {
      const childInv: Invocation = {
        ...inv,
        local: ["steps.name", step.name],
        captureResult: parentJson(step.name),
        onCreate: (n) => {
          created = n;
          op.addChild(sg, n.id);
          childSteps.set(n.id, step);
          loopChildren?.push(n);
          hooks ??= op.watchStepHooks(n, step, scope, inv);
        },
      };
      const node = await op.executeTemplate(childName, step, step.arguments ?? {}, childInv, absentRefs);
      if (!node) return;
      await (hooks ?? (() => op.runStepHooks(node, step, scope, inv)))();
    };
    if (!loopChildren) singles.push({ step, node: () => created });
    runs.push(run());
  };

  // Argo resolves references and expands loops for the whole group before starting any step: an error
  // there errors the group with the plain message and nothing runs. A step whose `when` is false is not
  // resolved at all (its body may name outputs that will never exist).
  type Planned = {
    raw: WorkflowStep;
    name: string;
    children?: NodeStatus[];
    when: { ok: boolean; text: string } | { error: string };
    resolved?: { step: WorkflowStep; absentRefs: Record<string, string> };
  };
  const planned: Planned[] = [];
  const evaluate = (raw: WorkflowStep, vars: ReadonlyMap<string, string | null>): Planned["when"] => {
    if (!raw.when) return { ok: true, text: "" };
    try {
      const ok = op.shouldExecute(raw.when, vars, "steps");
      return { ok, text: ok ? "" : substitute(raw.when, narrowVars(raw.when, vars)) };
    } catch (e) {
      return { error: messageOf(e) };
    }
  };
  for (const raw of steps) {
    const loop = raw.withItems !== undefined || raw.withParam !== undefined || raw.withSequence !== undefined;
    try {
      if (!loop) {
        const when = evaluate(raw, scope.vars);
        const p: Planned = { raw, name: raw.name, when };
        if ("ok" in when && when.ok) p.resolved = op.resolveInvocation(raw, scope);
        planned.push(p);
        continue;
      }
      const expanded = expandLoopOrSkip(op, raw, scope);
      if ("skipped" in expanded) {
        const n = op.skippedNode(
          `${sg.name}.${raw.name}`,
          raw,
          inv,
          "Skipped",
          `when '${expanded.skipped}' evaluated false`,
        );
        op.addChild(sg, n.id);
        childSteps.set(n.id, raw);
        singles.push({ step: raw, node: () => n });
        continue;
      }
      const items = expanded.items;
      if (!items.length) {
        const n = op.skippedNode(`${sg.name}.${raw.name}`, raw, inv, "Skipped", "Skipped, empty params");
        op.addChild(sg, n.id);
        childSteps.set(n.id, raw);
        continue;
      }
      const children: NodeStatus[] = [];
      loops.push({ step: raw, children });
      for (const item of items) {
        const when = evaluate(raw, new LayeredVars(scope.vars, item.vars));
        const p: Planned = { raw, name: `${raw.name}(${item.index}:${item.desc})`, children, when };
        if ("ok" in when && when.ok) p.resolved = op.resolveInvocation(raw, scope, item.vars);
        planned.push(p);
      }
    } catch (e) {
      groupError = messageOf(e);
      break;
    }
  }

  for (const p of groupError ? [] : planned) {
    const { raw } = p;
    const childName = `${sg.name}.${p.name}`;
    if ("error" in p.when) {
      const n = op.errorNode(childName, inv, p.when.error, "Skipped", raw);
      op.addChild(sg, n.id);
      groupError = p.when.error;
      break;
    }
    if (!p.when.ok) {
      const n = op.skippedNode(childName, raw, inv, "Skipped", `when '${p.when.text}' evaluated false`);
      op.addChild(sg, n.id);
      childSteps.set(n.id, raw);
      if (p.children) p.children.push(n);
      else singles.push({ step: raw, node: () => n });
      continue;
    }
    if (p.resolved) launch(p.name, { ...p.resolved.step, name: raw.name }, p.resolved.absentRefs, p.children);
  }
  await Promise.all(runs);
  for (const s of singles) {
    const n = s.node();
    if (n) op.recordSibling(scope, s.step.name, n, s.step);
  }
  for (const l of loops) op.recordLoop(scope, l.step.name, sg, l.children, l.step);
  if (groupError) {
    op.markPhase(sg, "Error", groupError);
    return;
  }
  if (boundary.tripped) return;
  for (const id of sg.children ?? []) {
    const child = op.nodes[id];
    const setupError = op.setupErrors.get(id);
    if (child && setupError !== undefined) {
      op.markPhase(sg, "Error", `step group deemed errored due to child ${child.name} error: ${setupError}`);
      return;
    }
  }
  for (const id of sg.children ?? []) {
    const child = op.nodes[id];
    if (!child) continue;
    const step = childSteps.get(id);
    if (isFailedOrError(child.phase) && !continues(step, child.phase)) {
      op.markPhase(sg, "Failed", `child '${id}' failed`);
      return;
    }
  }
  op.markPhase(sg, "Succeeded");
}
