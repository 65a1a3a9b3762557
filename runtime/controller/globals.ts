import { SkiffError } from "../errors/index.js";
import { substitute } from "../expr/index.js";
import type { Artifact, Outputs, Parameter, Workflow } from "../spec/types.js";
import { CONTROLLER_CODES } from "./codes.js";
import { iso, type OperatorContext } from "./context.js";
import { strftimeParts } from "./vars.js";

/*
 * Argo's global scope: `workflow.*` variables (name, uid, parameters, labels, duration, status) and the
 * global outputs steps export through `globalName` (`workflow.outputs.parameters.*` / `.artifacts.*`).
 */

const C = CONTROLLER_CODES;

export function initGlobals(op: OperatorContext): void {
  const g = op.globals;
  const wf = op.wf;
  g.set("workflow.name", op.name);
  g.set("workflow.namespace", op.namespace);
  g.set("workflow.uid", wf.metadata.uid ?? "");
  g.set("workflow.mainEntrypoint", op.compiled.entrypoint);
  g.set("workflow.serviceAccountName", wf.spec.serviceAccountName ?? "");
  if (wf.spec.priority !== undefined) g.set("workflow.priority", String(wf.spec.priority));
  g.set("workflow.creationTimestamp", iso(op.creationMs));
  g.set("workflow.creationTimestamp.RFC3339", iso(op.creationMs));
  for (const [k, v] of Object.entries(strftimeParts(op.creationMs)))
    g.set(`workflow.creationTimestamp.${k}`, v);
  const scheduled = wf.metadata.annotations?.["workflows.argoproj.io/scheduled-time"];
  if (scheduled) g.set("workflow.scheduledTime", scheduled);
  const params: Parameter[] = [];
  for (const p of wf.spec.arguments?.parameters ?? []) {
    let value = p.value;
    if (value === undefined && p.valueFrom?.configMapKeyRef) {
      const { name, key } = p.valueFrom.configMapKeyRef;
      const cm = op.compiled.configMaps.get(name);
      value = cm?.data?.[key] ?? p.valueFrom.default;
      if (value === undefined) {
        const why = cm
          ? `ConfigMap '${name}' does not have the key '${key}'`
          : `ConfigMap '${name}' does not exist`;
        throw new SkiffError(
          C["SKF-CTRL-005"],
          `failed to set global parameter ${p.name} from configmap with name ${name} and key ${key}: ${why}`,
        );
      }
    }
    if (value === undefined && p.default !== undefined) value = p.default;
    if (value === undefined) {
      throw new SkiffError(
        C["SKF-CTRL-005"],
        `either value or valueFrom must be specified in order to set global parameter ${p.name}`,
      );
    }
    params.push({ ...p, value });
    g.set(`workflow.parameters.${p.name}`, value);
  }
  g.set("workflow.parameters", JSON.stringify(params));
  g.set("workflow.parameters.json", JSON.stringify(params));
  const labels = wf.metadata.labels ?? {};
  const annotations = wf.metadata.annotations ?? {};
  for (const [k, v] of Object.entries(labels)) g.set(`workflow.labels.${k}`, v);
  for (const [k, v] of Object.entries(annotations)) g.set(`workflow.annotations.${k}`, v);
  g.set("workflow.labels", JSON.stringify(labels));
  g.set("workflow.labels.json", JSON.stringify(labels));
  g.set("workflow.annotations", JSON.stringify(annotations));
  g.set("workflow.annotations.json", JSON.stringify(annotations));
  g.set("workflow.status", (op.wf.status?.phase as string | undefined) ?? "");
  g.set("workflow.duration", "0.000000");
  for (const p of op.wf.status?.outputs?.parameters ?? []) {
    if (p.value !== undefined) g.set(`workflow.outputs.parameters.${p.name}`, p.value);
  }
}

/** The globals, with `workflow.duration` brought up to date. */
export function globalVars(op: OperatorContext): Map<string, string | null> {
  const secs = (op.options.clock.now() - op.startedAtMs) / 1000;
  op.globals.set("workflow.duration", secs.toFixed(6));
  return op.globals;
}

export function configMapValue(op: OperatorContext, name: string, key: string): string | undefined {
  return op.compiled.configMaps.get(name)?.data?.[key];
}

export function exportGlobalParameter(op: OperatorContext, name: string, value: string): void {
  const status = op.wf.status as NonNullable<Workflow["status"]>;
  status.outputs ??= {};
  const list = (status.outputs.parameters ??= []);
  const existing = list.find((p) => p.name === name);
  if (existing) existing.value = value;
  else list.push({ name, value });
  op.globals.set(`workflow.outputs.parameters.${name}`, value);
}

export function exportGlobalArtifact(op: OperatorContext, name: string, artifact: Artifact): void {
  const status = op.wf.status as NonNullable<Workflow["status"]>;
  status.outputs ??= {};
  const list = (status.outputs.artifacts ??= []);
  const copy = { ...artifact, name };
  delete copy.globalName;
  const i = list.findIndex((a) => a.name === name);
  if (i >= 0) list[i] = copy;
  else list.push(copy);
  op.globalArtifacts.set(`workflow.outputs.artifacts.${name}`, copy);
}

export function exportOutputs(
  op: OperatorContext,
  outputs: Outputs | undefined,
  vars?: ReadonlyMap<string, string | null>,
): void {
  for (const p of outputs?.parameters ?? []) {
    if (!p.globalName || p.value === undefined) continue;
    const name = vars ? substitute(p.globalName, vars) : p.globalName;
    exportGlobalParameter(op, name, p.value);
  }
  for (const a of outputs?.artifacts ?? []) {
    if (!a.globalName) continue;
    const name = vars ? substitute(a.globalName, vars) : a.globalName;
    exportGlobalArtifact(op, name, a);
  }
}
