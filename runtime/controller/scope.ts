import { SkiffError } from "../errors/index.js";
import { evaluateExpression, evaluateWhen, findTags, substitute, substituteObject } from "../expr/index.js";
import type { Artifact, InvocationBase, NodeStatus, Outputs, Template } from "../spec/types.js";
import { CONTROLLER_CODES } from "./codes.js";
import { ARTIFACT_REF, messageOf, NodeOutcome, type OperatorContext } from "./context.js";
import { expandSequence, loopIndexOf, type LoopItem, parseWithParam, toLoopItems } from "./loops.js";
import { locationOf } from "./support.js";
import { LayeredVars, type SiblingScope } from "./vars.js";

/*
 * The local scope of a steps/DAG invocation (Argo's buildLocalScope): `steps.X.*` / `tasks.X.*` variables
 * recorded from finished siblings, references and loops resolved against them, and the template's own
 * outputs taken from them.
 */

const C = CONTROLLER_CODES;

/**
 * Argo's hasOutputResultRef for every step of one parent template: does the template text contain
 * `<name>.outputs.result` or `['<name>'].outputs.result`? The text is scanned once per template.
 */
export function resultReferences(parentJson: string): (name: string) => boolean {
  const before: string[] = [];
  const marker = ".outputs.result";
  for (let i = parentJson.indexOf(marker); i >= 0; i = parentJson.indexOf(marker, i + 1)) {
    before.push(parentJson.slice(Math.max(0, i - 300), i));
  }
  if (!before.length) return () => false;
  return (name) =>
    before.some((b) => b.endsWith(name) || b.endsWith(`['${name}']`) || b.endsWith(`[\\"${name}\\"]`));
}

/**
 * Only the variables a text's simple tags name, so substitution does not index a large sibling scope for
 * every step. Falls back to all variables for expression tags or names not found.
 */
export function narrowVars(
  text: string,
  vars: ReadonlyMap<string, string | null>,
): ReadonlyMap<string, string | null> {
  const out = new Map<string, string | null>();
  for (const tag of findTags(text)) {
    if (tag.expression) return vars;
    const key = tag.inner.trim();
    const v = vars.get(key);
    if (v === undefined) {
      if (!vars.has(key)) return vars;
    }
    out.set(key, v ?? null);
  }
  return out;
}

/** The one-tag reference an argument value consists of, if it is exactly one simple tag. */
export function singleReference(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /^\{\{\s*([^{}=][^{}]*?)\s*\}\}$/.exec(value);
  return m?.[1];
}

/** Resolves sibling references in a step/task (strict: missing `steps.*` keys are errors here). */
export function resolveInvocation<T extends InvocationBase>(
  op: OperatorContext,
  step: T,
  scope: SiblingScope,
  itemVars?: ReadonlyMap<string, string>,
): { step: T; absentRefs: Record<string, string> } {
  const vars = new LayeredVars(scope.vars, itemVars);
  vars.set(`${scope.prefix}.name`, step.name);
  const absentRefs: Record<string, string> = {};
  const copy: T = { ...step };
  if (itemVars) {
    // Already expanded: serializing a long item list again for every item would cost O(items²) (Argo nils
    // these fields for the same reason).
    delete copy.withItems;
    delete copy.withParam;
    delete copy.withSequence;
  }
  if (copy.arguments?.parameters?.length) {
    copy.arguments = {
      ...copy.arguments,
      parameters: copy.arguments.parameters.map((p) => {
        const ref = singleReference(p.value);
        if (ref !== undefined && vars.get(ref) === null) {
          absentRefs[p.name] = ref;
          const np = { ...p };
          delete np.value;
          return np;
        }
        return p;
      }),
    };
  }
  const opts = {
    strictPrefixes: [scope.prefix],
    allowUnresolved: [ARTIFACT_REF, /^(steps|tasks)\.name$/],
  };
  // Hooks are resolved when they fire (they may reference this step's own status and outputs).
  const hooks = copy.hooks;
  delete copy.hooks;
  const resolved = substituteObject(copy, narrowVars(JSON.stringify(copy), vars), opts);
  if (hooks) resolved.hooks = hooks;
  if (resolved.arguments?.artifacts?.length) {
    resolved.arguments = {
      ...resolved.arguments,
      artifacts: resolved.arguments.artifacts.flatMap((a: Artifact) => {
        try {
          const r = resolveArtifactArg(op, a, scope, vars);
          return r ? [r] : [];
        } catch (e) {
          // An artifact the producer did not save is fine when the input it feeds is optional (Argo drops
          // the argument and ProcessArgs skips the optional input).
          if (inputIsOptional(op, step, scope, a.name)) return [];
          throw e;
        }
      }),
    };
  }
  return { step: resolved, absentRefs };
}

/** Whether the template a step/task calls declares input artifact `name` optional. */
function inputIsOptional(
  op: OperatorContext,
  holder: InvocationBase,
  scope: SiblingScope,
  name: string,
): boolean {
  try {
    const template = op.templates.resolve(holder, scope.templateScope).template;
    return template.inputs?.artifacts?.find((d) => d.name === name)?.optional === true;
  } catch {
    return false;
  }
}

export function resolveArtifactArg(
  op: OperatorContext,
  a: Artifact,
  scope: SiblingScope,
  vars: ReadonlyMap<string, string | null>,
): Artifact | undefined {
  let source: Artifact | null | undefined;
  if (a.from) {
    const key = singleReference(a.from);
    source = key ? (scope.artifacts.get(key) ?? op.globalArtifacts.get(key)) : undefined;
    if (source === undefined && key?.startsWith("inputs.artifacts.")) {
      source = undefined;
    }
    if (!source) {
      if (a.optional) return undefined;
      throw new SkiffError(C["SKF-CTRL-013"], `Unable to resolve: ${a.from}`);
    }
  } else if (a.fromExpression) {
    const env: Record<string, unknown> = Object.fromEntries(
      vars instanceof LayeredVars ? vars.materialize() : vars,
    );
    for (const [k, v] of scope.artifacts) env[k] = v;
    const r = evaluateExpression(a.fromExpression, env);
    if (!r || typeof r !== "object") {
      if (a.optional) return undefined;
      throw new SkiffError(C["SKF-CTRL-013"], `Unable to resolve: ${a.fromExpression}`);
    }
    source = r as Artifact;
  } else {
    return a;
  }
  const out: Artifact = { ...locationOf(source), name: a.name };
  if (a.subPath) out.subPath = a.subPath;
  if (a.optional) out.optional = a.optional;
  return out;
}

export function expandLoop(
  op: OperatorContext,
  step: InvocationBase,
  scope: SiblingScope,
): LoopItem[] | undefined {
  const vars = scope.vars;
  const strict = { strictPrefixes: [scope.prefix] };
  if (step.withItems) return toLoopItems(substituteObject(step.withItems, vars));
  if (step.withParam !== undefined) {
    return toLoopItems(parseWithParam(substitute(step.withParam, narrowVars(step.withParam, vars), strict)));
  }
  if (step.withSequence)
    return toLoopItems(expandSequence(substituteObject(step.withSequence, vars, strict)));
  return undefined;
}

/**
 * Expands a loop, unless expanding fails and the step's `when` is false anyway: Argo resolves `when`
 * before the rest of the step and ignores a `withParam` it cannot parse when the step will not run
 * (it may name the output of a producer that was skipped). Returns the `when` text for the Skipped node.
 */
export function expandLoopOrSkip(
  op: OperatorContext,
  step: InvocationBase,
  scope: SiblingScope,
): { items: LoopItem[] } | { skipped: string } {
  try {
    return { items: op.expandLoop(step, scope) ?? [] };
  } catch (e) {
    if (step.when) {
      let run = true;
      try {
        run = shouldExecute(op, step.when, scope.vars, scope.prefix);
      } catch {
        // `when` needs the loop item (or fails): the expansion error stands.
      }
      if (!run) return { skipped: substitute(step.when, narrowVars(step.when, scope.vars)) };
    }
    throw e;
  }
}

/** Evaluates a `when` once its tags are substituted. */
export function shouldExecute(
  op: OperatorContext,
  when: string | undefined,
  vars: ReadonlyMap<string, string | null>,
  prefix: string,
): boolean {
  if (!when) return true;
  const text = substitute(when, narrowVars(when, vars), { strictPrefixes: [prefix] });
  return evaluateWhen(text);
}

/** Adds `<prefix>.<name>.*` for a finished child (Argo's buildLocalScope). */
export function recordSibling(
  op: OperatorContext,
  scope: SiblingScope,
  name: string,
  node: NodeStatus,
  holder: InvocationBase,
): void {
  const key = `${scope.prefix}.${name}`;
  let src = node;
  if (node.type === "Retry") {
    const attempts = (node.children ?? []).map((c) => op.nodes[c]).filter((n) => n?.nodeFlag?.retried);
    src = attempts[attempts.length - 1] ?? node;
  }
  const v = scope.vars;
  v.set(`${key}.id`, src.id);
  v.set(`${key}.status`, src.phase);
  if (src.startedAt) v.set(`${key}.startedAt`, src.startedAt);
  if (src.finishedAt) v.set(`${key}.finishedAt`, src.finishedAt);
  if (src.podIP ?? node.podIP) v.set(`${key}.ip`, (src.podIP ?? node.podIP) as string);
  if (src.hostNodeName) v.set(`${key}.hostNodeName`, src.hostNodeName);
  const outputs = node.outputs ?? src.outputs;
  // A Skipped node with outputs is a step `resubmit --memoized` carried over: its outputs are real.
  if ((node.phase === "Skipped" || node.phase === "Omitted") && !node.outputs) {
    recordAbsentOutputs(op, scope, key, holder);
    return;
  }
  if (outputs) recordOutputs(op, scope, key, outputs);
}

export function recordOutputs(op: OperatorContext, scope: SiblingScope, key: string, outputs: Outputs): void {
  const v = scope.vars;
  if (outputs.result !== undefined) v.set(`${key}.outputs.result`, outputs.result);
  if (outputs.exitCode !== undefined) v.set(`${key}.exitCode`, outputs.exitCode);
  for (const p of outputs.parameters ?? []) {
    if (p.value !== undefined) v.set(`${key}.outputs.parameters.${p.name}`, p.value);
  }
  for (const a of outputs.artifacts ?? []) scope.artifacts.set(`${key}.outputs.artifacts.${a.name}`, a);
}

/** §2.4: outputs of a Skipped/Omitted producer are absent unless they declare a default. */
export function recordAbsentOutputs(
  op: OperatorContext,
  scope: SiblingScope,
  key: string,
  holder: InvocationBase,
): void {
  let template: Template | undefined;
  try {
    template = op.templates.resolve(holder, scope.templateScope).template;
  } catch {
    template = undefined;
  }
  const v = scope.vars;
  if (!v.has(`${key}.outputs.result`)) v.set(`${key}.outputs.result`, null);
  for (const p of template?.outputs?.parameters ?? []) {
    v.set(`${key}.outputs.parameters.${p.name}`, p.valueFrom?.default ?? null);
  }
  if (scope.prefix === "steps") {
    for (const a of template?.outputs?.artifacts ?? []) {
      scope.artifacts.set(`${key}.outputs.artifacts.${a.name}`, { name: a.name });
    }
  }
}

/** Aggregated outputs of a loop (Argo's processAggregateNodeOutputs). */
export function recordLoop(
  op: OperatorContext,
  scope: SiblingScope,
  name: string,
  group: NodeStatus,
  children: NodeStatus[],
  _holder: InvocationBase,
): void {
  const key = `${scope.prefix}.${name}`;
  const v = scope.vars;
  v.set(`${key}.id`, group.id);
  v.set(`${key}.status`, group.phase);
  if (group.startedAt) v.set(`${key}.startedAt`, group.startedAt);
  if (group.finishedAt) v.set(`${key}.finishedAt`, group.finishedAt);
  const sorted = [...children].sort((a, b) => loopIndexOf(a.name) - loopIndexOf(b.name));
  const results: unknown[] = [];
  let resultsOk = true;
  const paramMaps: Record<string, string>[] = [];
  const perParam = new Map<string, string[]>();
  for (const c of sorted) {
    const outputs = c.outputs;
    if (c.phase !== "Succeeded" || !outputs) continue;
    if (outputs.result !== undefined) {
      try {
        results.push(JSON.parse(outputs.result));
      } catch {
        resultsOk = false;
      }
    }
    const m: Record<string, string> = {};
    for (const p of outputs.parameters ?? []) {
      if (p.value === undefined) continue;
      m[p.name] = p.value;
      const list = perParam.get(p.name) ?? [];
      list.push(p.value);
      perParam.set(p.name, list);
    }
    if (Object.keys(m).length) paramMaps.push(m);
  }
  if (results.length && resultsOk) v.set(`${key}.outputs.result`, JSON.stringify(results));
  v.set(`${key}.outputs.parameters`, JSON.stringify(paramMaps));
  for (const [p, values] of perParam) {
    const allJson = values.every((x) => {
      try {
        const parsed: unknown = JSON.parse(x);
        return parsed !== null && typeof parsed === "object";
      } catch {
        return false;
      }
    });
    v.set(`${key}.outputs.parameters.${p}`, allJson ? "[" + values.join(",") + "]" : JSON.stringify(values));
  }
}

/** Outputs of a steps/DAG template from its sibling scope (`valueFrom.parameter` / `expression` / `from`). */
export function templateOutputs(
  op: OperatorContext,
  template: Template,
  scope: SiblingScope,
): Outputs | undefined {
  const decl = template.outputs;
  if (!decl?.parameters?.length && !decl?.artifacts?.length) return undefined;
  const out: Outputs = {};
  for (const p of decl.parameters ?? []) {
    const vf = p.valueFrom;
    let value: string | undefined = p.value;
    try {
      if (vf?.parameter !== undefined) {
        const ref = singleReference(vf.parameter);
        if (ref !== undefined && scope.vars.get(ref) === null) value = undefined;
        else value = substitute(vf.parameter, scope.vars, { strictPrefixes: [scope.prefix] });
      } else if (vf?.expression !== undefined) {
        const r = evaluateExpression(vf.expression, scope.vars);
        value = r === null || r === undefined ? undefined : typeof r === "string" ? r : JSON.stringify(r);
      } else if (vf?.supplied === undefined && vf?.default !== undefined && value === undefined) {
        value = vf.default;
      }
    } catch {
      value = undefined;
    }
    if (value === undefined) value = vf?.default;
    if (value === undefined) {
      throw new NodeOutcome("Error", `Unable to resolve outputs.parameters.${p.name}: no value found`);
    }
    (out.parameters ??= []).push({ ...p, value });
  }
  for (const a of decl.artifacts ?? []) {
    try {
      const r = resolveArtifactArg(op, a, scope, scope.vars);
      if (!r) continue;
      const art: Artifact = { ...r };
      if (a.globalName) art.globalName = a.globalName;
      (out.artifacts ??= []).push(art);
    } catch (e) {
      if (a.optional) continue;
      throw new NodeOutcome("Error", messageOf(e));
    }
  }
  return out;
}
