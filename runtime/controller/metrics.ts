import type { Clock } from "../interfaces/clock.js";
import type { PrometheusMetric, RealtimeScope } from "../interfaces/metrics.js";
import type { K8sObject, NodeStatus, Workflow, WorkflowPhase } from "../spec/types.js";
import type { OperatorContext } from "./context.js";
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

export function emitNodeMetrics(
  op: OperatorContext,
  metrics: PrometheusMetric[],
  node: NodeStatus,
  moment: "start" | "end",
): void {
  const sink = op.options.metrics;
  if (!sink) return;
  const { vars, realtime } = nodeMetricScope(node, op.globalVars(), op.options.clock);
  for (const problem of sink.emitCustom(metrics, vars, realtime, moment)) metricsError(op, problem);
}

/** `spec.metrics`: realtime gauges when the workflow starts running, the others when it completes. */
export function emitWorkflowMetrics(
  op: OperatorContext,
  moment: "start" | "end",
  phase?: WorkflowPhase,
): void {
  const sink = op.options.metrics;
  const metrics = metricDefinitions(op.wf.spec.metrics);
  if (!sink || metrics.length === 0) return;
  const vars = new LayeredVars(op.globalVars());
  if (phase) vars.set("workflow.status", phase);
  const started = op.startedAtMs;
  const finishedAt = () => Date.parse(op.wf.status?.finishedAt ?? "") || op.options.clock.now();
  const realtime = { "workflow.duration": () => Math.max(0, finishedAt() - started) / 1000 };
  for (const problem of sink.emitCustom(metrics, vars, realtime, moment)) metricsError(op, problem);
}

export function metricsError(op: OperatorContext, message: string): void {
  reportMetricsError(op.wf.status as NonNullable<Workflow["status"]>, message);
  op.touch();
}
