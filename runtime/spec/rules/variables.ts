/**
 * Variable references (`{{inputs.*}}`, `{{steps.*}}`, `{{tasks.*}}`, `{{item}}`, ...): what each template
 * sees, and `resolveAllVariables`' check that every tag names something in scope.
 */
import { SPEC_CODES } from "../codes.js";
import { SPEC_LIMITS } from "../limits.js";
import type { TemplateScope } from "../compiled.js";
import { isPlainObject } from "../merge.js";
import { collectStrings, findTags } from "../tags.js";
import { arr, dict, has, hasVar, type RuleContext, type Dict, type Path, type Scope } from "./context.js";

const CHECKED_PREFIXES = ["item.", "steps.", "inputs.", "outputs.", "pod.", "workflow.", "tasks."];

/** `resolveAllVariables`: tags with a known root must name something in scope. */
export function checkVariables(
  ctx: RuleContext,
  value: unknown,
  vars: Scope,
  path: Path,
  scope: TemplateScope,
  context: string,
): void {
  for (const s of collectStrings(value)) {
    for (const tag of findTags(s)) {
      const trimmed = tag.trim();
      if (trimmed.startsWith("=")) continue;
      if (!CHECKED_PREFIXES.some((p) => trimmed.startsWith(p))) continue;
      if (resolvable(ctx, trimmed, vars)) continue;
      const at = isPlainObject(value) || Array.isArray(value) ? fieldOf(ctx, value as Dict, s, path) : path;
      ctx.report(SPEC_CODES["SKF-SPEC-042"], `${context}: failed to resolve {{${tag}}}`, at, scope);
    }
  }
}

/** Variables of a step/task body, leaving the nested inline template to its own check. */
export function checkInvocationVariables(
  ctx: RuleContext,
  holder: Dict,
  vars: Scope,
  path: Path,
  scope: TemplateScope,
  context: string,
): void {
  const body: Dict = { ...holder };
  delete body.inline;
  for (const s of collectStrings(body)) {
    for (const tag of findTags(s)) {
      const trimmed = tag.trim();
      if (trimmed.startsWith("=")) continue;
      if (!CHECKED_PREFIXES.some((p) => trimmed.startsWith(p))) continue;
      if (resolvable(ctx, trimmed, vars) || hasWildcard(ctx, trimmed, vars)) continue;
      ctx.report(
        SPEC_CODES["SKF-SPEC-042"],
        `${context}: failed to resolve {{${tag}}}`,
        fieldOf(ctx, holder, s, path),
        scope,
      );
    }
  }
}

function resolvable(ctx: RuleContext, tag: string, vars: Scope): boolean {
  if (vars.has(tag) || ctx.globals.has(tag) || hasWildcard(ctx, tag, vars)) return true;
  if ((tag === "item" || tag.startsWith("item.")) && vars.has("item.*")) return true;
  if (tag.startsWith("workflow.outputs.parameters.") && ctx.anyGlobalOutputParameter) return true;
  if (tag.startsWith("workflow.outputs.artifacts.") && ctx.anyGlobalOutputArtifact) return true;
  if (tag.startsWith("outputs.")) return true;
  for (const p of [
    "workflow.creationTimestamp",
    "workflow.scheduledTime",
    "workflow.duration",
    "tasks.name",
    "steps.name",
    "node.name",
  ]) {
    if (tag.startsWith(p)) return true;
  }
  if (tag.startsWith("workflow.parameters") && ctx.templateValidation) return true;
  return false;
}

function hasWildcard(ctx: RuleContext, tag: string, vars: Scope): boolean {
  const m = /^(steps|tasks)\.([^.]+)\./.exec(tag);
  return m !== null && vars.has(`${m[1]}.${m[2]}.*`);
}

/** The path of the field that holds a string inside a step/task, for a precise position. */
function fieldOf(ctx: RuleContext, holder: Dict, text: string, path: Path): Path {
  const search = (value: unknown, at: Path): Path | undefined => {
    if (value === text) return at;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const r = search(value[i], [...at, i]);
        if (r) return r;
      }
    } else if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (k === "inline") continue;
        const r = search(v, [...at, k]);
        if (r) return r;
      }
    }
    return undefined;
  };
  return search(holder, path) ?? path;
}

export function addItems(
  ctx: RuleContext,
  holder: Dict,
  vars: Scope,
  path: Path,
  scope: TemplateScope,
): void {
  const defined = [
    Array.isArray(holder.withItems) && holder.withItems.length > 0,
    typeof holder.withParam === "string" && holder.withParam !== "",
    has(holder.withSequence),
  ].filter(Boolean).length;
  if (defined > 1) {
    ctx.report(
      SPEC_CODES["SKF-SPEC-060"],
      "only one of withItems, withParam, withSequence can be specified",
      path,
      scope,
    );
  }
  if (Array.isArray(holder.withItems) && holder.withItems.length > 0) {
    for (const item of holder.withItems) {
      if (Array.isArray(item)) item.forEach((_, i) => vars.add(`item.[${i}]`));
      else if (isPlainObject(item)) for (const k of Object.keys(item)) vars.add(`item.${k}`);
      else vars.add("item");
    }
  } else if (typeof holder.withParam === "string" && holder.withParam !== "") {
    vars.add("item");
    vars.add("item.*");
  } else if (has(holder.withSequence)) {
    const seq = dict(holder.withSequence) ?? {};
    if (has(seq.count) && has(seq.end)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-061"],
        "only one of count or end can be defined in withSequence",
        [...path, "withSequence"],
        scope,
      );
    }
    for (const k of ["count", "start", "end"]) {
      const v = seq[k];
      if (
        has(v) &&
        !hasVar(v) &&
        !(typeof v === "number" ? Number.isInteger(v) : /^-?\d+$/.test(String(v)))
      ) {
        ctx.report(
          SPEC_CODES["SKF-SPEC-061"],
          `withSequence.${k} must be an integer, not '${String(v)}'`,
          [...path, "withSequence", k],
          scope,
        );
      }
    }
    const literal = (v: unknown): number | undefined =>
      typeof v === "number" || (typeof v === "string" && /^\s*-?\d+\s*$/.test(v)) ? Number(v) : undefined;
    const start = has(seq.start) ? literal(seq.start) : 0;
    const count = literal(seq.count);
    const end = literal(seq.end);
    const width =
      count !== undefined ? count : end !== undefined && start !== undefined ? Math.abs(end - start) + 1 : 0;
    if (width > SPEC_LIMITS.maxLoopWidth) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-084"],
        `withSequence expands to ${width} items, more than the limit of ${SPEC_LIMITS.maxLoopWidth}`,
        [...path, "withSequence", count !== undefined ? "count" : "end"],
        scope,
      );
    }
    vars.add("item");
  }
}

export function addOutputs(
  ctx: RuleContext,
  target: Dict | undefined,
  prefix: string,
  vars: Scope,
  aggregate: boolean,
  withStatus: boolean,
): void {
  for (const k of ["id", "startedAt", "finishedAt", "hostNodeName"]) vars.add(`${prefix}.${k}`);
  if (withStatus) vars.add(`${prefix}.status`);
  if (!target) {
    // A template reached through an unresolved templateRef: its outputs are unknown, allow any.
    vars.add(`${prefix}.*`);
    return;
  }
  if (target.daemon === true) vars.add(`${prefix}.ip`);
  const cs = dict(target.containerSet);
  const hasOutput =
    has(target.container) ||
    has(target.script) ||
    has(target.data) ||
    has(target.http) ||
    has(target.plugin) ||
    (cs !== undefined && arr(cs.containers).some((c) => dict(c)?.name === "main"));
  if (hasOutput) {
    vars.add(`${prefix}.outputs.result`);
    vars.add(`${prefix}.exitCode`);
  }
  const outputs = dict(target.outputs) ?? {};
  for (const p of arr(outputs.parameters)) vars.add(`${prefix}.outputs.parameters.${String(dict(p)?.name)}`);
  for (const a of arr(outputs.artifacts)) vars.add(`${prefix}.outputs.artifacts.${String(dict(a)?.name)}`);
  if (aggregate) {
    vars.add(`${prefix}.outputs.parameters`);
    if (has(target.script) || has(target.containerSet)) {
      vars.add(`${prefix}.outputs.result`);
      vars.add(`${prefix}.exitCode`);
    }
  }
}
