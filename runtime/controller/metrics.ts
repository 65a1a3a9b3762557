import type { Clock } from "../interfaces/clock.js";
import type { PrometheusMetric, RealtimeScope } from "../interfaces/metrics.js";
import type { K8sObject, NodeStatus, Workflow } from "../spec/types.js";
import { LayeredVars } from "./vars.js";

/** The `prometheus` list of a `metrics` block (template or `spec.metrics`); empty when there is none. */
export function metricDefinitions(metrics: K8sObject | undefined): PrometheusMetric[] {
  const list = (metrics as { prometheus?: unknown } | undefined)?.prometheus;
  return Array.isArray(list) ? (list as PrometheusMetric[]) : [];
}

/**
 * The variables a template's metrics see (Argo's `prepareMetricScope`): the globals plus `status`,
 * `duration` (seconds, `%f`), `inputs.parameters.*`, `outputs.result`, `outputs.parameters.*`, `exitCode`,
 * `resourcesDuration.*` and, for a retried node, `retries`. `duration` is also a realtime variable, read
 * from the live node (it stops growing once the node has finished).
 */
export function nodeMetricScope(
  node: NodeStatus,
  globals: ReadonlyMap<string, string | null>,
  clock: Clock,
): { vars: LayeredVars; realtime: RealtimeScope } {
  const startedAt = Date.parse(node.startedAt ?? "") || clock.now();
  const duration = () => {
    const end = node.finishedAt ? Date.parse(node.finishedAt) : clock.now();
    return Math.max(0, end - startedAt) / 1000;
  };
  const vars = new LayeredVars(globals);
  vars.set("duration", duration().toFixed(6));
  if (node.phase) vars.set("status", node.phase);
  for (const p of node.inputs?.parameters ?? []) vars.set(`inputs.parameters.${p.name}`, p.value ?? "");
  const outputs = node.outputs;
  if (outputs?.result !== undefined) vars.set("outputs.result", outputs.result);
  for (const p of outputs?.parameters ?? []) vars.set(`outputs.parameters.${p.name}`, p.value ?? "");
  if (outputs?.exitCode !== undefined) vars.set("exitCode", outputs.exitCode);
  for (const [k, v] of Object.entries(node.resourcesDuration ?? {}))
    vars.set(`resourcesDuration.${k}`, String(v));
  if (node.type === "Retry") vars.set("retries", String(Math.max(0, (node.children?.length ?? 1) - 1)));
  return { vars, realtime: { duration } };
}

/** Argo's `reportMetricEmissionError`: one `MetricsError` condition holding the latest problem. */
export function reportMetricsError(status: NonNullable<Workflow["status"]>, message: string): void {
  const conditions = (status.conditions ??= []);
  const existing = conditions.find((c) => c.type === "MetricsError");
  if (existing) existing.message = message;
  else conditions.push({ type: "MetricsError", status: "True", message });
}
