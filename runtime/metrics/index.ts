export type { MetricLabel, MetricsSink, PrometheusMetric, RealtimeScope } from "../interfaces/metrics.js";
export { METRIC_CODES } from "./codes.js";
export { isValidMetricName, parseMetricValue, validateMetricDefinitions } from "./custom.js";
export { BUILTIN_METRICS, METRIC_PREFIX, MetricsRegistry } from "./registry.js";
