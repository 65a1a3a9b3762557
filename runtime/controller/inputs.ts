import { SkiffError } from "../errors/index.js";
import { substitute, substituteObject } from "../expr/index.js";
import type { ResolvedTemplate } from "../spec/compiled.js";
import { podName as podNameOf } from "../spec/index.js";
import type { Arguments, Artifact, Parameter, Template } from "../spec/types.js";
import { CONTROLLER_CODES } from "./codes.js";
import {
  type Invocation,
  nodeTypeOfTemplate,
  type OperatorContext,
  type ProcessedInputs,
} from "./context.js";
import { hasFilledLocation, hasLocation, locationOf, stripLocation } from "./support.js";
import { LayeredVars } from "./vars.js";

/*
 * Template inputs (Argo's ProcessArgs): parameters from arguments, defaults, ConfigMaps and enums, input
 * artifacts from arguments or the template, and the variables a template is substituted with.
 */

const C = CONTROLLER_CODES;

/** Builds the variables a template sees: globals, inputs, node/pod names, local names. */
export function templateVars(
  op: OperatorContext,
  rt: ResolvedTemplate,
  inputs: ProcessedInputs,
  nodeName: string,
  inv: Invocation,
  extra?: Record<string, string>,
): LayeredVars {
  const v = new LayeredVars(op.globalVars());
  for (const p of inputs.parameters) v.set(`inputs.parameters.${p.name}`, p.value ?? "");
  v.set("inputs.parameters", JSON.stringify(inputs.parameters));
  for (const a of inputs.artifacts) if (a.path) v.set(`inputs.artifacts.${a.name}.path`, a.path);
  for (const a of rt.template.outputs?.artifacts ?? []) {
    if (a.path) v.set(`outputs.artifacts.${a.name}.path`, a.path);
  }
  for (const p of rt.template.outputs?.parameters ?? []) {
    if (p.valueFrom?.path) v.set(`outputs.parameters.${p.name}.path`, p.valueFrom.path);
  }
  v.set("node.name", nodeName);
  if (nodeTypeOfTemplate(rt.template) === "Pod") {
    v.set("pod.name", podNameOf(op.name, nodeName, rt.template.name ?? ""));
  }
  if (inv.local) v.set(inv.local[0], inv.local[1]);
  if (extra) for (const [k, val] of Object.entries(extra)) v.set(k, val);
  return v;
}

export function processInputs(
  op: OperatorContext,
  template: Template,
  args: Arguments,
  absentRefs: Record<string, string>,
): ProcessedInputs {
  const parameters: Parameter[] = [];
  // Parameters whose value is the template's own value or default (not an argument, not a ConfigMap).
  const ownValues = new Set<Parameter>();
  for (const decl of template.inputs?.parameters ?? []) {
    // Argo's ProcessArgs: value or default, then the argument's value (or valueFrom), then a ConfigMap.
    const p: Parameter = { ...decl };
    // A value or default written on the template itself sees the workflow's globals (Argo substitutes
    // the whole template with them); an argument's value was substituted by its caller already.
    const own = decl.value ?? decl.default;
    const ownValue = own === undefined ? undefined : substitute(own, op.globals);
    let value: string | undefined = ownValue;
    let valueFrom = decl.valueFrom;
    const arg = args.parameters?.find((a) => a.name === decl.name);
    if (arg) {
      if (arg.value !== undefined) value = arg.value;
      else if (arg.valueFrom) valueFrom = arg.valueFrom;
    }
    if (valueFrom?.configMapKeyRef) {
      const ref = substituteObject(valueFrom.configMapKeyRef, op.globals);
      const cm = op.compiled.configMaps.get(ref.name);
      const v = cm?.data?.[ref.key];
      if (v !== undefined) value = v;
      else if (valueFrom.default !== undefined) value = valueFrom.default;
      else {
        throw new SkiffError(
          C["SKF-CTRL-005"],
          `unable to retrieve inputs.parameters.${decl.name} from ConfigMap: ` +
            (cm
              ? `ConfigMap '${ref.name}' does not have the key '${ref.key}'`
              : `ConfigMap '${ref.name}' does not exist`),
        );
      }
      p.valueFrom = valueFrom;
    }
    if (value === undefined && decl.enum?.length) value = decl.enum[0];
    if (value === undefined) {
      const absent = absentRefs[decl.name];
      if (absent !== undefined) {
        throw new SkiffError(
          C["SKF-CTRL-005"],
          `inputs.parameters.${decl.name}: argument references an absent optional (${absent})`,
        );
      }
      throw new SkiffError(C["SKF-CTRL-005"], `inputs.parameters.${decl.name} was not supplied`);
    }
    if (own !== undefined && value === ownValue) ownValues.add(p);
    p.value = value;
    if (p.valueFrom && !p.valueFrom.configMapKeyRef) delete p.valueFrom;
    parameters.push(p);
  }
  // The variables of Argo's second substitution pass (SubstituteParams): globals and the input parameters.
  const inputVars = new LayeredVars(op.globals);
  for (const p of parameters) {
    // A template's own `{{= }}` default that names other inputs could not be evaluated with the globals
    // alone; evaluated here, over the inputs before it, expressions see its value rather than its text.
    if (ownValues.has(p) && p.value?.includes("{{=")) {
      p.value = substitute(p.value, inputVars);
    }
    inputVars.set(`inputs.parameters.${p.name}`, p.value ?? "");
  }
  const artifacts: Artifact[] = [];
  for (const decl of template.inputs?.artifacts ?? []) {
    const arg = args.artifacts?.find((a) => a.name === decl.name);
    let art: Artifact | undefined;
    if (arg && hasLocation(arg)) {
      art = { ...stripLocation(decl), ...locationOf(arg), name: decl.name };
      if (arg.subPath && !decl.subPath) art.subPath = arg.subPath;
    } else if (hasLocation(decl)) {
      art = { ...decl };
    }
    // Argo substitutes the whole template, its input artifacts included, with the globals and the input
    // parameters: a location may name either (`http.url: "{{inputs.parameters.host}}/x"`).
    if (art) art = substituteObject(art, inputVars);
    // An optional input whose location is empty (`http: {url: ""}`) is not there: Argo skips it.
    if (art && !hasFilledLocation(art)) art = undefined;
    if (!art) {
      if (decl.optional || arg?.optional) continue;
      throw new SkiffError(C["SKF-CTRL-013"], `inputs.artifacts.${decl.name} was not supplied`);
    }
    delete art.from;
    delete art.fromExpression;
    artifacts.push(art);
  }
  return { parameters, artifacts };
}
