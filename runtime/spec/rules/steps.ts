/**
 * `steps` templates: step names, groups, and the variables each step sees.
 */
import { SPEC_CODES } from "../codes.js";
import type { TemplateScope } from "../compiled.js";
import { isPlainObject } from "../merge.js";
import { checkArguments } from "./arguments.js";
import {
  arr,
  dict,
  FIELD_NAME,
  has,
  LayeredScope,
  MAX_FIELD_NAME,
  str,
  type RuleContext,
  type Dict,
  type Path,
  type Scope,
} from "./context.js";
import { addItems, addOutputs, checkInvocationVariables } from "./variables.js";

export function checkSteps(ctx: RuleContext, t: Dict, path: Path, scope: TemplateScope, vars: Scope): void {
  const name = String(t.name ?? "");
  const groups = arr(t.steps);
  const seen = new Set<string>();
  const scopeVars: Scope = new Set(vars);
  groups.forEach((g, gi) => {
    const group = Array.isArray(g) ? g : [];
    if (!Array.isArray(g) && isPlainObject(g)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-010"],
        `templates.${name}.steps[${gi}] must be a list of steps (use '- - name:')`,
        [...path, "steps", gi],
        scope,
      );
    }
    const groupOutputs: (() => void)[] = [];
    group.forEach((s, si) => {
      const step = dict(s);
      if (!step) return;
      const sp: Path = [...path, "steps", gi, si];
      const sname = str(step.name);
      if (sname === undefined || sname === "") {
        ctx.report(SPEC_CODES["SKF-SPEC-011"], `templates.${name}.steps[${gi}].name is required`, sp, scope);
      } else {
        if (seen.has(sname))
          ctx.report(
            SPEC_CODES["SKF-SPEC-023"],
            `templates.${name}.steps[${gi}].name '${sname}' is not unique`,
            [...sp, "name"],
            scope,
          );
        if (!FIELD_NAME.test(sname)) {
          ctx.report(
            SPEC_CODES["SKF-SPEC-021"],
            `templates.${name}.steps[${gi}].name '${sname}' is invalid: name must consist of alpha-numeric characters or '-', and must start with an alpha-numeric character`,
            [...sp, "name"],
            scope,
          );
        }
        if (sname.length > MAX_FIELD_NAME)
          ctx.report(
            SPEC_CODES["SKF-SPEC-022"],
            `step name '${sname}' must be no more than ${MAX_FIELD_NAME} characters`,
            [...sp, "name"],
            scope,
          );
        seen.add(sname);
      }
      const prefix = `steps.${sname ?? ""}`;
      scopeVars.add(`${prefix}.status`);
      const stepVars: Scope = new LayeredScope(scopeVars);
      addItems(ctx, step, stepVars, sp, scope);
      const args = dict(step.arguments) ?? {};
      checkArguments(ctx, args, [...sp, "arguments"], false, scope);
      const target = ctx.checkCall(step, args, sp, scope);
      if (has(step.onExit) || dict(step.hooks)?.exit !== undefined)
        addOutputs(ctx, target.template, prefix, stepVars, false, true);
      ctx.checkHooks(step.hooks, [...sp, "hooks"], scope, args);
      if (typeof step.onExit === "string" && step.onExit !== "")
        ctx.checkCall({ template: step.onExit }, undefined, [...sp, "onExit"], scope);
      const inline = dict(step.inline);
      for (const p of arr(dict(inline?.inputs)?.parameters))
        stepVars.add(`inputs.parameters.${String(dict(p)?.name)}`);
      if (dict(step.hooks)) addOutputs(ctx, target.template, prefix, stepVars, false, true);
      checkInvocationVariables(ctx, step, stepVars, sp, scope, `templates.${name}.steps`);
      const aggregate =
        (Array.isArray(step.withItems) && step.withItems.length > 0) ||
        (typeof step.withParam === "string" && step.withParam !== "");
      groupOutputs.push(() => addOutputs(ctx, target.template, prefix, scopeVars, aggregate, false));
    });
    // Steps see the outputs of earlier groups only: a step's siblings run at the same time.
    for (const add of groupOutputs) add();
  });
  for (const v of scopeVars) vars.add(v);
}
