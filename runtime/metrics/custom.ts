import { SkiffError } from "../errors/index.js";
import type { PrometheusMetric } from "../interfaces/metrics.js";
import { METRIC_CODES } from "./codes.js";

const C = METRIC_CODES;

/** Argo's metric name and label key rule: Prometheus' legacy names without `:` (v3.6+). */
const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Go's `strconv.ParseFloat` for the values metrics are written with. */
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export type MetricKind = "gauge" | "counter" | "histogram";

/** The type a definition declares, or undefined when it declares none. */
export function kindOf(metric: PrometheusMetric): MetricKind | undefined {
  if (metric.gauge) return "gauge";
  if (metric.counter) return "counter";
  if (metric.histogram) return "histogram";
  return undefined;
}

export function isValidMetricName(name: string): boolean {
  return NAME.test(name) && !name.startsWith("__");
}

/**
 * Checks metric definitions as Argo's validation does (`validate.go`, `metrics.ValidateMetricValues`): name
 * and label keys, `help`, a type with a value, buckets for histograms, no `resourcesDuration` in a realtime
 * gauge. `where` prefixes the messages as Argo does (`templates.<name>`, or `spec` for workflow metrics).
 * Returns every problem; the positions are left to the caller.
 */
export function validateMetricDefinitions(definitions: readonly unknown[], where: string): SkiffError[] {
  const problems: SkiffError[] = [];
  for (const raw of definitions) {
    const m = (raw && typeof raw === "object" ? raw : {}) as Partial<PrometheusMetric>;
    const name = typeof m.name === "string" ? m.name : "";
    if (!isValidMetricName(name)) {
      problems.push(
        new SkiffError(
          C["SKF-METRIC-001"],
          `${where} metric name '${name}' is invalid. Metric names must contain alphanumeric characters or '_'`,
        ),
      );
    }
    for (const label of Array.isArray(m.labels) ? m.labels : []) {
      const key = typeof label?.key === "string" ? label.key : "";
      if (!isValidMetricName(key)) {
        problems.push(
          new SkiffError(
            C["SKF-METRIC-001"],
            `metric label '${key}' is invalid: keys may only contain alphanumeric characters or '_'`,
          ),
        );
      }
    }
    if (typeof m.help !== "string" || m.help === "") {
      problems.push(
        new SkiffError(
          C["SKF-METRIC-002"],
          `${where} metric '${name}' must contain a help string under 'help: ' field`,
        ),
      );
    }
    const valueProblem = valueProblemOf(m as PrometheusMetric);
    if (valueProblem) {
      problems.push(new SkiffError(C["SKF-METRIC-003"], `${where} metric '${name}' error: ${valueProblem}`));
    }
  }
  return problems;
}

function valueProblemOf(m: PrometheusMetric): string | undefined {
  const kinds = [m.gauge, m.counter, m.histogram].filter((k) => k !== undefined && k !== null).length;
  if (kinds === 0) return "metric type not specified: give one of gauge, counter or histogram";
  if (kinds > 1) return "only one of gauge, counter or histogram may be given";
  if (m.gauge) {
    if (!m.gauge.value) return "missing gauge.value";
    if (m.gauge.realtime === true && String(m.gauge.value).includes("resourcesDuration."))
      return "'resourcesDuration.*' metrics cannot be used in real-time";
    const op = m.gauge.operation;
    if (op !== undefined && op !== "" && op !== "Set" && op !== "Add" && op !== "Sub")
      return `gauge.operation '${op}' must be one of Set, Add or Sub`;
  }
  if (m.counter && !m.counter.value) return "missing counter.value";
  if (m.histogram) {
    if (!m.histogram.value) return "missing histogram.value";
    if (!Array.isArray(m.histogram.buckets) || m.histogram.buckets.length === 0)
      return "histogram.buckets must list at least one bucket";
  }
  return undefined;
}

/** A metric value as Argo parses it (`strconv.ParseFloat`); throws SKF-METRIC-005 otherwise. */
export function parseMetricValue(name: string, value: string): number {
  const text = value.trim();
  if (FLOAT.test(text)) return Number(text);
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  throw new SkiffError(
    C["SKF-METRIC-005"],
    `metric '${name}': invalid metric value '${value}': not a number`,
  );
}

/** Histogram buckets as sorted numbers; throws SKF-METRIC-003 for one that is not a number. */
export function parseBuckets(name: string, buckets: readonly (number | string)[]): number[] {
  const out = buckets.map((b) => {
    const n = typeof b === "number" ? b : Number(String(b).trim());
    if (!Number.isFinite(n)) {
      throw new SkiffError(
        C["SKF-METRIC-003"],
        `metric '${name}': histogram bucket '${String(b)}' is not a number`,
      );
    }
    return n;
  });
  return [...new Set(out)].sort((a, b) => a - b);
}
