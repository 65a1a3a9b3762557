import { defineErrorCodes } from "../errors/index.js";

export const METRIC_CODES = defineErrorCodes({
  "SKF-METRIC-001": {
    title: "Invalid metric name",
    hint: "Metric names and label keys may only contain letters, digits and '_', and must not start with a digit (Argo's rule).",
  },
  "SKF-METRIC-002": {
    title: "Metric help missing",
    hint: "Every metric needs a `help` text; metrics of the same name must share it.",
  },
  "SKF-METRIC-003": {
    title: "Metric type or value missing",
    hint: "Give the metric exactly one of `gauge`, `counter` or `histogram`, with a `value` (and `buckets` for a histogram).",
  },
  "SKF-METRIC-004": {
    title: "Metric definitions clash",
    hint: "Metrics with the same name must have the same type, help text, label keys and histogram buckets.",
  },
  "SKF-METRIC-005": {
    title: "Metric not emitted",
    hint: "The value must be a number once substituted, `when` must evaluate, and a realtime gauge's value must be exactly `{{duration}}` (template) or `{{workflow.duration}}` (workflow).",
  },
});
