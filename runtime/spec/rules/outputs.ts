/**
 * Template outputs: output parameters (`valueFrom` by template type) and artifacts, `globalName`.
 */
import { SPEC_CODES } from "../codes.js";
import type { TemplateScope } from "../compiled.js";
import type { TemplateType } from "../types.js";
import { checkNames } from "./arguments.js";
import {
  arr,
  dict,
  has,
  IS_PARAMETER,
  LEAF_TYPES,
  PARAM_NAME,
  type RuleContext,
  type Dict,
  type Path,
  type Scope,
} from "./context.js";
import { checkVariables } from "./variables.js";

export function checkOutputs(
  ctx: RuleContext,
  t: Dict,
  path: Path,
  scope: TemplateScope,
  vars: Scope,
  type: TemplateType | undefined,
): void {
  const name = String(t.name ?? "");
  const outputs = dict(t.outputs);
  if (!outputs) return;
  const op: Path = [...path, "outputs"];
  const params = arr(outputs.parameters);
  const artifacts = arr(outputs.artifacts);
  checkNames(ctx, params, [...op, "parameters"], PARAM_NAME, "output parameter", scope);
  checkNames(ctx, artifacts, [...op, "artifacts"], PARAM_NAME, "output artifact", scope);
  checkVariables(ctx, outputs, vars, op, scope, `templates.${name}.outputs`);
  const leaf = type === undefined || LEAF_TYPES.includes(type);
  artifacts.forEach((a, i) => {
    const art = dict(a) ?? {};
    const an = String(art.name ?? i);
    if (!leaf && has(art.path)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-044"],
        `templates.${name}.outputs.artifacts.${an}.path only valid in container/script templates`,
        [...op, "artifacts", i, "path"],
        scope,
      );
    }
    const gn = art.globalName;
    if (typeof gn === "string" && gn !== "" && !IS_PARAMETER.test(gn) && !PARAM_NAME.test(gn)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-021"],
        `templates.${name}.outputs.artifacts.${an}.globalName: Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-'`,
        [...op, "artifacts", i, "globalName"],
        scope,
      );
    }
  });
  params.forEach((p, i) => {
    const param = dict(p) ?? {};
    const pn = String(param.name ?? i);
    const ref = `templates.${name}.outputs.parameters.${pn}`;
    const at: Path = [...op, "parameters", i];
    const vf = dict(param.valueFrom);
    if (vf && has(param.value)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-043"],
        `${ref} has both valueFrom and value specified. Choose one.`,
        at,
        scope,
      );
      return;
    }
    if (has(param.value)) return;
    if (!vf) {
      ctx.report(SPEC_CODES["SKF-SPEC-043"], `${ref} does not have valueFrom or value specified`, at, scope);
      return;
    }
    const kinds = ["path", "jqFilter", "jsonPath", "parameter", "expression"].filter(
      (k) => typeof vf[k] === "string" && vf[k] !== "",
    );
    const count = kinds.length + (has(vf.supplied) ? 1 : 0);
    if (count === 0 && !has(vf.configMapKeyRef) && !has(vf.event)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-043"],
        `${ref}: valueFrom type unspecified. choose one of: path, jqFilter, jsonPath, parameter, raw, expression`,
        [...at, "valueFrom"],
        scope,
      );
    } else if (count > 1) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-043"],
        `${ref}: multiple valueFrom types specified. choose one of: path, jqFilter, jsonPath, parameter, raw`,
        [...at, "valueFrom"],
        scope,
      );
    }
    if (type === "container" || type === "containerSet" || type === "script") {
      if (typeof vf.path !== "string" || vf.path === "") {
        ctx.report(
          SPEC_CODES["SKF-SPEC-043"],
          `${ref}.path must be specified for ${type} templates`,
          [...at, "valueFrom"],
          scope,
        );
      }
    } else if (type === "resource") {
      if (!has(vf.jqFilter) && !has(vf.jsonPath)) {
        ctx.report(
          SPEC_CODES["SKF-SPEC-043"],
          `${ref} .jqFilter or jsonPath must be specified for resource templates`,
          [...at, "valueFrom"],
          scope,
        );
      }
    } else if (type === "dag" || type === "steps") {
      if (!has(vf.parameter) && !has(vf.expression)) {
        ctx.report(
          SPEC_CODES["SKF-SPEC-043"],
          `${ref}.parameter or expression must be specified for ${type} templates`,
          [...at, "valueFrom"],
          scope,
        );
      }
    }
    const gn = param.globalName;
    if (typeof gn === "string" && gn !== "" && !IS_PARAMETER.test(gn) && !PARAM_NAME.test(gn)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-021"],
        `${ref}.globalName: Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-'`,
        [...at, "globalName"],
        scope,
      );
    }
  });
}
