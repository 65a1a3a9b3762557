/**
 * Parameters and artifacts: names, `spec.arguments`, the arguments a call supplies, template inputs and
 * the global variables (`workflow.*`) they define.
 */
import { SPEC_CODES } from "../codes.js";
import type { TemplateScope } from "../compiled.js";
import { isPlainObject } from "../merge.js";
import { formatPath } from "../positions.js";
import {
  arr,
  dict,
  FIELD_NAME,
  has,
  IS_PARAMETER,
  MAX_FIELD_NAME,
  PARAM_NAME,
  str,
  type RuleContext,
  type Dict,
  type Path,
  type Scope,
} from "./context.js";

export function collectGlobals(ctx: RuleContext, meta: Dict, spec: Dict, args: Dict): void {
  const g = ctx.globals;
  for (const k of ["name", "namespace", "mainEntrypoint", "serviceAccountName", "uid", "status", "failures"])
    g.add(`workflow.${k}`);
  const params = arr(args.parameters);
  if (params.length > 0) {
    g.add("workflow.parameters");
    g.add("workflow.parameters.json");
  }
  for (const p of params)
    if (isPlainObject(p) && typeof p.name === "string") g.add(`workflow.parameters.${p.name}`);
  const wm = dict(spec.workflowMetadata) ?? {};
  const annotations = [
    ...Object.keys(dict(meta.annotations) ?? {}),
    ...Object.keys(dict(wm.annotations) ?? {}),
  ];
  const labels = [
    ...Object.keys(dict(meta.labels) ?? {}),
    ...Object.keys(dict(wm.labels) ?? {}),
    ...Object.keys(dict(wm.labelsFrom) ?? {}),
  ];
  for (const a of annotations) g.add(`workflow.annotations.${a}`);
  for (const l of labels) g.add(`workflow.labels.${l}`);
  for (const k of ["annotations", "annotations.json", "labels", "labels.json"]) g.add(`workflow.${k}`);
  if (spec.priority !== undefined) g.add("workflow.priority");
  // Global outputs may be exported by any template; collect them up front so order does not matter.
  const visit = (t: unknown): void => {
    const outputs = dict(dict(t)?.outputs);
    for (const p of arr(outputs?.parameters)) {
      const gn = str(dict(p)?.globalName);
      if (gn === undefined || gn === "") continue;
      if (IS_PARAMETER.test(gn)) ctx.anyGlobalOutputParameter = true;
      else g.add(`workflow.outputs.parameters.${gn}`);
    }
    for (const a of arr(outputs?.artifacts)) {
      const gn = str(dict(a)?.globalName);
      if (gn === undefined || gn === "") continue;
      if (IS_PARAMETER.test(gn)) ctx.anyGlobalOutputArtifact = true;
      else g.add(`workflow.outputs.artifacts.${gn}`);
    }
  };
  for (const t of arr(spec.templates)) visit(t);
  for (const scope of ctx.prepared.templateScopes())
    for (const t of ctx.prepared.templatesOf(scope)) visit(t);
}

/** `validateWorkflowFieldNames`: names required, well formed and unique. */
export function checkNames(
  ctx: RuleContext,
  items: unknown[],
  path: Path,
  pattern: RegExp,
  what: string,
  scope: TemplateScope,
): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const name = dict(item)?.name;
    if (typeof name !== "string" || name === "") {
      ctx.report(
        SPEC_CODES["SKF-SPEC-011"],
        `${formatPath([...path, i])}.name is required`,
        [...path, i],
        scope,
      );
      return;
    }
    if (pattern === FIELD_NAME && name.length > MAX_FIELD_NAME) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-022"],
        `${what} name '${name}' must be no more than ${MAX_FIELD_NAME} characters`,
        [...path, i, "name"],
        scope,
      );
    }
    if (!pattern.test(name)) {
      const rule =
        pattern === FIELD_NAME
          ? "name must consist of alpha-numeric characters or '-', and must start with an alpha-numeric character"
          : "Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-'";
      ctx.report(
        SPEC_CODES["SKF-SPEC-021"],
        `${what} name '${name}' is invalid: ${rule}`,
        [...path, i, "name"],
        scope,
      );
    }
    if (seen.has(name))
      ctx.report(
        SPEC_CODES["SKF-SPEC-023"],
        `${what} name '${name}' is not unique`,
        [...path, i, "name"],
        scope,
      );
    seen.add(name);
  });
}

/** `validateArguments`: names, and values unless empty values are allowed (lint). */
export function checkArguments(
  ctx: RuleContext,
  args: Dict,
  path: Path,
  allowEmpty: boolean,
  scope: TemplateScope,
): void {
  const params = arr(args.parameters);
  const artifacts = arr(args.artifacts);
  checkNames(ctx, params, [...path, "parameters"], PARAM_NAME, "parameter", scope);
  checkNames(ctx, artifacts, [...path, "artifacts"], PARAM_NAME, "artifact", scope);
  params.forEach((p, i) => {
    const param = dict(p);
    if (!param) return;
    const at: Path = [...path, "parameters", i];
    const name = String(param.name ?? i);
    const valueFrom = dict(param.valueFrom);
    if (!has(param.value) && !valueFrom && !allowEmpty) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-043"],
        `${formatPath(path)}.${name}.value or ${formatPath(path)}.${name}.valueFrom is required`,
        at,
        scope,
      );
    }
    if (valueFrom) {
      const allowed = has(valueFrom.configMapKeyRef) || has(valueFrom.event) || has(valueFrom.supplied);
      const forbidden = ["path", "jsonPath", "parameter", "expression"].some(
        (k) => has(valueFrom[k]) && valueFrom[k] !== "",
      );
      if (!allowed || forbidden) {
        ctx.report(
          SPEC_CODES["SKF-SPEC-043"],
          `${formatPath(path)}.${name}.valueFrom only allows: default, configMapKeyRef and supplied`,
          [...at, "valueFrom"],
          scope,
        );
      }
    }
    if (Array.isArray(param.enum)) {
      if (param.enum.length === 0) {
        ctx.report(
          SPEC_CODES["SKF-SPEC-043"],
          `${formatPath(path)}.${name}.enum should contain at least one value`,
          [...at, "enum"],
          scope,
        );
      } else if (!has(param.value)) {
        if (!allowEmpty)
          ctx.report(SPEC_CODES["SKF-SPEC-043"], `${formatPath(path)}.${name}.value is required`, at, scope);
      } else if (!param.enum.map(String).includes(String(param.value))) {
        ctx.report(
          SPEC_CODES["SKF-SPEC-043"],
          `${formatPath(path)}.${name}.value should be present in ${formatPath(path)}.${name}.enum list`,
          [...at, "value"],
          scope,
        );
      }
    }
  });
  artifacts.forEach((a, i) => {
    const art = dict(a);
    if (!art) return;
    const at: Path = [...path, "artifacts", i];
    const name = String(art.name ?? i);
    if (!has(art.from) && !has(art.fromExpression) && !hasLocation(art)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-044"],
        `${formatPath(path)}.${name}.from, artifact location, or key is required`,
        at,
        scope,
      );
    }
    if (has(art.from) && has(art.fromExpression)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-044"],
        `${formatPath(path)}.${name} shouldn't have both \`from\` and \`fromExpression\` in Artifact`,
        at,
        scope,
      );
    }
  });
}

/** `ProcessArgs`: every input parameter gets a value and every required input artifact a source. */
export function checkSuppliedArguments(
  ctx: RuleContext,
  t: Dict,
  args: Dict,
  callPath: Path,
  callScope: TemplateScope,
): void {
  const inputs = dict(t.inputs) ?? {};
  const argParams = arr(args.parameters).map(dict);
  const argArts = arr(args.artifacts).map(dict);
  for (const p of arr(inputs.parameters)) {
    const param = dict(p);
    if (!param || typeof param.name !== "string") continue;
    const arg = argParams.find((a) => a?.name === param.name);
    const supplied =
      has(param.value) ||
      has(param.default) ||
      has(param.valueFrom) ||
      (arg !== undefined && (has(arg.value) || has(arg.valueFrom)));
    if (!supplied) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-040"],
        `inputs.parameters.${param.name} was not supplied`,
        callPath,
        callScope,
      );
    }
  }
  for (const a of arr(inputs.artifacts)) {
    const art = dict(a);
    if (!art || typeof art.name !== "string") continue;
    if (hasLocation(art) || art.optional === true) continue;
    if (!argArts.some((x) => x?.name === art.name)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-040"],
        `inputs.artifacts.${art.name} was not supplied`,
        callPath,
        callScope,
      );
    }
  }
}

export function checkInputs(
  ctx: RuleContext,
  t: Dict,
  path: Path,
  scope: TemplateScope,
  leaf: boolean,
  vars: Scope,
): void {
  const inputs = dict(t.inputs) ?? {};
  const params = arr(inputs.parameters);
  const artifacts = arr(inputs.artifacts);
  checkNames(ctx, params, [...path, "inputs", "parameters"], PARAM_NAME, "input parameter", scope);
  checkNames(ctx, artifacts, [...path, "inputs", "artifacts"], PARAM_NAME, "input artifact", scope);
  for (const p of params)
    if (typeof dict(p)?.name === "string") vars.add(`inputs.parameters.${String(dict(p)?.name)}`);
  if (params.length > 0) vars.add("inputs.parameters");
  artifacts.forEach((a, i) => {
    const art = dict(a);
    if (!art) return;
    const n = String(art.name);
    vars.add(`inputs.artifacts.${n}`);
    if (leaf) vars.add(`inputs.artifacts.${n}.path`);
    else if (has(art.path)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-044"],
        `templates.${String(t.name)}.inputs.artifacts.${n}.path only valid in container/script templates`,
        [...path, "inputs", "artifacts", i, "path"],
        scope,
      );
    }
    if (has(art.from)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-044"],
        `templates.${String(t.name)}.inputs.artifacts.${n}.from not valid in inputs`,
        [...path, "inputs", "artifacts", i, "from"],
        scope,
      );
    }
    checkArtifactLocation(ctx, art, [...path, "inputs", "artifacts", i], scope);
  });
}

export function checkArtifactLocation(ctx: RuleContext, loc: Dict, path: Path, scope: TemplateScope): void {
  const git = dict(loc.git);
  if (git && (typeof git.repo !== "string" || git.repo === "")) {
    ctx.report(
      SPEC_CODES["SKF-SPEC-011"],
      `${formatPath(path)}.git.repo is required`,
      [...path, "git"],
      scope,
    );
  }
}

function hasLocation(a: Dict): boolean {
  return ["s3", "gcs", "azure", "http", "git", "raw", "artifactory", "oss", "hdfs", "plugin", "local"].some(
    (k) => has(a[k]),
  );
}
