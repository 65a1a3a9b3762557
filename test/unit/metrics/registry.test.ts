import { describe, expect, it } from "vitest";
import type { PrometheusMetric } from "../../../runtime/interfaces/metrics.js";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import {
  BUILTIN_METRICS,
  MetricsRegistry,
  parseMetricValue,
  validateMetricDefinitions,
} from "../../../runtime/metrics/index.js";

const vars = (entries: Record<string, string>) => new Map<string, string | null>(Object.entries(entries));

/** The exposition lines of one metric family: HELP, TYPE and samples. */
async function family(r: MetricsRegistry, name: string): Promise<string[]> {
  const prefixes = [`# HELP ${name} `, `# TYPE ${name} `, `${name}{`, `${name} `, `${name}_`];
  return (await r.exposition()).split("\n").filter((l) => prefixes.some((p) => l.startsWith(p)));
}

describe("custom metrics: exposition of each kind", () => {
  it("counter: adds the value, one series per label set, labels sorted by key", async () => {
    const r = new MetricsRegistry();
    const def: PrometheusMetric = {
      name: "result_counter",
      help: "Count of step execution by result status",
      labels: [
        { key: "status", value: "{{status}}" },
        { key: "name", value: "flakey" },
      ],
      counter: { value: "1" },
    };
    expect(r.emitCustom([def], vars({ status: "Failed" }), {}, "end")).toEqual([]);
    r.emitCustom([def], vars({ status: "Failed" }), {}, "end");
    r.emitCustom([def], vars({ status: "Succeeded" }), {}, "end");
    expect(await family(r, "argo_workflows_result_counter")).toEqual([
      "# HELP argo_workflows_result_counter Count of step execution by result status",
      "# TYPE argo_workflows_result_counter counter",
      'argo_workflows_result_counter{name="flakey",status="Failed"} 2',
      'argo_workflows_result_counter{name="flakey",status="Succeeded"} 1',
    ]);
  });

  it("gauge: Set (default), Add and Sub", async () => {
    const r = new MetricsRegistry();
    const gauge = (value: string, operation?: string): PrometheusMetric => ({
      name: "queue",
      help: "Items",
      gauge: operation ? { value, operation } : { value },
    });
    r.emitCustom([gauge("{{outputs.result}}")], vars({ "outputs.result": "10" }), {}, "end");
    r.emitCustom([gauge("4", "Add")], vars({}), {}, "end");
    r.emitCustom([gauge("1.5", "Sub")], vars({}), {}, "end");
    expect(await family(r, "argo_workflows_queue")).toEqual([
      "# HELP argo_workflows_queue Items",
      "# TYPE argo_workflows_queue gauge",
      "argo_workflows_queue 12.5",
    ]);
  });

  it("histogram: observes into the given buckets (sorted), with sum and count", async () => {
    const r = new MetricsRegistry();
    const def: PrometheusMetric = {
      name: "random_int_step_histogram",
      help: "Value of the int emitted by random-int at step level",
      histogram: { value: "{{outputs.parameters.rand-int-value}}", buckets: [4.01, "2.01", 8.01] },
    };
    for (const v of ["1", "3", "3", "9"])
      r.emitCustom([def], vars({ "outputs.parameters.rand-int-value": v }), {}, "end");
    expect(await family(r, "argo_workflows_random_int_step_histogram")).toEqual([
      "# HELP argo_workflows_random_int_step_histogram Value of the int emitted by random-int at step level",
      "# TYPE argo_workflows_random_int_step_histogram histogram",
      'argo_workflows_random_int_step_histogram_bucket{le="2.01"} 1',
      'argo_workflows_random_int_step_histogram_bucket{le="4.01"} 3',
      'argo_workflows_random_int_step_histogram_bucket{le="8.01"} 3',
      'argo_workflows_random_int_step_histogram_bucket{le="+Inf"} 4',
      "argo_workflows_random_int_step_histogram_sum 16",
      "argo_workflows_random_int_step_histogram_count 4",
    ]);
  });

  it("realtime gauge: registered at start, its value read at each exposition", async () => {
    const r = new MetricsRegistry();
    let seconds = 1.5;
    const def: PrometheusMetric = {
      name: "exec_duration_gauge",
      help: "Duration gauge by name",
      labels: [{ key: "name", value: "model_a" }],
      gauge: { value: "{{duration}}", realtime: true },
    };
    // Not a realtime moment: nothing happens at the end.
    r.emitCustom([def], vars({}), { duration: () => 99 }, "end");
    expect(await family(r, "argo_workflows_exec_duration_gauge")).toEqual([]);
    expect(r.emitCustom([def], vars({}), { duration: () => seconds }, "start")).toEqual([]);
    expect(await family(r, "argo_workflows_exec_duration_gauge")).toContain(
      'argo_workflows_exec_duration_gauge{name="model_a"} 1.5',
    );
    seconds = 42;
    expect(await family(r, "argo_workflows_exec_duration_gauge")).toContain(
      'argo_workflows_exec_duration_gauge{name="model_a"} 42',
    );
  });

  it("when: the metric is emitted only when the condition holds", async () => {
    const r = new MetricsRegistry();
    const def: PrometheusMetric = {
      name: "failures",
      help: "Failures",
      when: "{{status}} == Failed",
      counter: { value: "1" },
    };
    r.emitCustom([def], vars({ status: "Succeeded" }), {}, "end");
    expect(await family(r, "argo_workflows_failures")).toEqual([]);
    r.emitCustom([def], vars({ status: "Failed" }), {}, "end");
    expect(await family(r, "argo_workflows_failures")).toContain("argo_workflows_failures 1");
  });
});

describe("custom metrics: problems", () => {
  it("a value that is not a number is reported (SKF-METRIC-005) and leaves no empty metric", async () => {
    const r = new MetricsRegistry();
    const problems = r.emitCustom(
      [{ name: "score", help: "Score", gauge: { value: "{{outputs.result}}" } }],
      vars({ "outputs.result": "high" }),
      {},
      "end",
    );
    expect(problems).toEqual(["SKF-METRIC-005: metric 'score': invalid metric value 'high': not a number"]);
    expect(r.problems).toEqual(problems);
    expect(await family(r, "argo_workflows_score")).toEqual([]);
  });

  it("a realtime gauge must name one realtime variable", () => {
    const r = new MetricsRegistry();
    const rt = (value: string): PrometheusMetric => ({
      name: "rt",
      help: "h",
      gauge: { value, realtime: true },
    });
    expect(r.emitCustom([rt("{{duration}} s")], vars({}), { duration: () => 1 }, "start")).toEqual([
      "SKF-METRIC-005: metric 'rt': real time metrics can only be used with metric variables",
    ]);
    expect(r.emitCustom([rt("{{outputs.result}}")], vars({}), { duration: () => 1 }, "start")).toEqual([
      "SKF-METRIC-005: metric 'rt': 'outputs.result' is not available as a real time metric",
    ]);
  });

  it("a second definition of a name must match the first (SKF-METRIC-004)", () => {
    const r = new MetricsRegistry();
    r.emitCustom([{ name: "m", help: "first", counter: { value: "1" } }], vars({}), {}, "end");
    expect(
      r.emitCustom([{ name: "m", help: "other", counter: { value: "1" } }], vars({}), {}, "end"),
    ).toEqual(["SKF-METRIC-004: metric 'm' was defined differently before: its help is 'first'"]);
    expect(r.emitCustom([{ name: "m", help: "first", gauge: { value: "1" } }], vars({}), {}, "end")).toEqual([
      "SKF-METRIC-004: metric 'm' was defined differently before: it is a counter, not a gauge",
    ]);
    expect(
      r.emitCustom(
        [{ name: "m", help: "first", labels: [{ key: "a", value: "x" }], counter: { value: "1" } }],
        vars({}),
        {},
        "end",
      ),
    ).toEqual(["SKF-METRIC-004: metric 'm' was defined differently before: its labels are []"]);
    expect(
      r.emitCustom([{ name: "total_count", help: "x", counter: { value: "1" } }], vars({}), {}, "end"),
    ).toEqual(["SKF-METRIC-004: metric 'total_count' is the name of a built-in metric"]);
  });

  it("a counter cannot go down", () => {
    const r = new MetricsRegistry();
    expect(r.emitCustom([{ name: "c", help: "h", counter: { value: "-1" } }], vars({}), {}, "end")).toEqual([
      "SKF-METRIC-005: metric 'c': a counter can only increase, got -1",
    ]);
  });

  it("parses values as Go's ParseFloat does", () => {
    expect(parseMetricValue("m", " 2.5e1 ")).toBe(25);
    expect(parseMetricValue("m", "-.5")).toBe(-0.5);
    expect(parseMetricValue("m", "+Inf")).toBe(Infinity);
    expect(() => parseMetricValue("m", "")).toThrow(/invalid metric value/);
    expect(() => parseMetricValue("m", "0x10")).toThrow(/invalid metric value/);
  });
});

describe("validateMetricDefinitions (Argo's rules)", () => {
  it("reports name, label key, help and value problems with codes and Argo's messages", () => {
    const problems = validateMetricDefinitions(
      [
        { name: "bad-name", help: "h", counter: { value: "1" } },
        { name: "ok", help: "h", labels: [{ key: "invalid.key", value: "v" }], counter: { value: "1" } },
        { name: "metric_name", gauge: { value: "1" } },
        { name: "g", help: "h", gauge: { value: "{{resourcesDuration.cpu}}", realtime: true } },
        { name: "c", help: "h", counter: { value: "" } },
        { name: "hi", help: "h", histogram: { value: "1", buckets: [] } },
        { name: "none", help: "h" },
        { name: "fine", help: "h", gauge: { value: "1", operation: "Add" } },
      ],
      "templates.whalesay",
    );
    expect(problems.map((p) => [p.code, p.message])).toEqual([
      [
        "SKF-METRIC-001",
        "templates.whalesay metric name 'bad-name' is invalid. Metric names must contain alphanumeric characters or '_'",
      ],
      [
        "SKF-METRIC-001",
        "metric label 'invalid.key' is invalid: keys may only contain alphanumeric characters or '_'",
      ],
      [
        "SKF-METRIC-002",
        "templates.whalesay metric 'metric_name' must contain a help string under 'help: ' field",
      ],
      [
        "SKF-METRIC-003",
        "templates.whalesay metric 'g' error: 'resourcesDuration.*' metrics cannot be used in real-time",
      ],
      ["SKF-METRIC-003", "templates.whalesay metric 'c' error: missing counter.value"],
      [
        "SKF-METRIC-003",
        "templates.whalesay metric 'hi' error: histogram.buckets must list at least one bucket",
      ],
      [
        "SKF-METRIC-003",
        "templates.whalesay metric 'none' error: metric type not specified: give one of gauge, counter or histogram",
      ],
    ]);
    expect(problems[0]?.hint).toMatch(/letters, digits and '_'/);
  });
});

describe("built-in run metrics from controller events", () => {
  it("counts workflows by phase, pods by phase, and step durations", async () => {
    const r = new MetricsRegistry();
    const wf: Workflow = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { name: "w", namespace: "ns" },
      spec: { workflowTemplateRef: { name: "lib" } },
      status: { phase: "Running", startedAt: "2024-01-01T00:00:00Z" },
    };
    r.observe({ type: "workflow-started", workflow: wf });
    const pod: NodeStatus = {
      id: "w-1",
      name: "w[0].a",
      displayName: "a",
      type: "Pod",
      phase: "Running",
      templateName: "build",
      startedAt: "2024-01-01T00:00:00Z",
    };
    r.observe({ type: "node-updated", workflow: wf, node: pod });
    r.observe({ type: "workflow-updated", workflow: wf });
    expect(await family(r, BUILTIN_METRICS.workflowsByPhase)).toContain(
      'argo_workflows_gauge{phase="Running"} 1',
    );
    r.observe({
      type: "node-updated",
      workflow: wf,
      node: { ...pod, phase: "Succeeded", finishedAt: "2024-01-01T00:00:03Z" },
      previousPhase: "Running",
    });
    const done = {
      ...wf,
      status: { ...wf.status, phase: "Succeeded" as const, finishedAt: "2024-01-01T00:01:00Z" },
    };
    r.observe({ type: "workflow-finished", workflow: done });

    const text = await r.exposition();
    expect(text).toContain('argo_workflows_gauge{phase="Running"} 0');
    expect(text).toContain('argo_workflows_gauge{phase="Succeeded"} 1');
    expect(text).toContain('argo_workflows_total_count{phase="Running",namespace="ns"} 1');
    expect(text).toContain('argo_workflows_total_count{phase="Succeeded",namespace="ns"} 1');
    expect(text).toContain('argo_workflows_pods_total_count{phase="Running",namespace="ns"} 1');
    expect(text).toContain('argo_workflows_pods_total_count{phase="Succeeded",namespace="ns"} 1');
    expect(text).toContain(
      'argo_workflows_workflowtemplate_triggered_total{name="lib",namespace="ns",cluster_scope="false",phase="Succeeded"} 1',
    );
    expect(text).toContain(
      'argo_workflows_workflowtemplate_runtime_sum{name="lib",namespace="ns",cluster_scope="false"} 60',
    );
    expect(text).toContain(
      'skiff_step_duration_seconds_bucket{le="5",namespace="ns",template="build",phase="Succeeded"} 1',
    );
    expect(text).toContain(
      'skiff_step_duration_seconds_bucket{le="2",namespace="ns",template="build",phase="Succeeded"} 0',
    );
    expect(text).toContain(
      'skiff_step_duration_seconds_sum{namespace="ns",template="build",phase="Succeeded"} 3',
    );
  });
});
