/** One label of an Argo custom metric. */
export interface MetricLabel {
  key: string;
  value: string;
}

/**
 * One Argo custom metric definition (`spec.metrics.prometheus[]` or a template's `metrics.prometheus[]`), as
 * written: every string may still hold `{{...}}` tags.
 */
export interface PrometheusMetric {
  name: string;
  help: string;
  labels?: MetricLabel[];
  /** A govaluate condition (after substitution); the metric is emitted only when it holds. */
  when?: string;
  gauge?: { value: string; realtime?: boolean; operation?: "Set" | "Add" | "Sub" | string };
  counter?: { value: string };
  histogram?: { value: string; buckets: (number | string)[] };
}

/** Variables whose value is read when the metrics are exposed (`duration`, `workflow.duration`). */
export type RealtimeScope = Readonly<Record<string, () => number>>;

/**
 * Where the controller sends Argo's custom metrics. It calls `emitCustom` when a workflow or node starts
 * (realtime gauges only) and when it completes (all the others), with the variables of that moment. Problems
 * (a value that is not a number, a definition clashing with an earlier one) are returned, never thrown: Argo
 * reports them in a `MetricsError` condition and the run goes on.
 */
export interface MetricsSink {
  emitCustom(
    definitions: readonly PrometheusMetric[],
    vars: ReadonlyMap<string, string | null>,
    realtime: RealtimeScope,
    moment: "start" | "end",
  ): string[];
}
