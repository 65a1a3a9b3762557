import { describe, expect, it } from "vitest";
import { MetricsRegistry } from "../../../runtime/metrics/index.js";
import { harness, run, start, until } from "./helpers.js";

/** The sample lines (no HELP/TYPE) of the metrics whose name starts with `prefix`. */
async function samples(r: MetricsRegistry, prefix: string): Promise<string[]> {
  return (await r.exposition()).split("\n").filter((l) => l.startsWith(prefix));
}

describe("custom metrics emitted by the controller", () => {
  it("template counters and histograms see status, inputs and outputs once the node completed", async () => {
    const metrics = new MetricsRegistry();
    const h = harness();
    h.exec.script("flakey", { exitCode: 1 });
    h.exec.script("again", {});
    h.exec.script("rand", { outputParameters: { v: "3" }, duration: 3_000 });
    const { wf } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: cm}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: flakey, template: flakey, continueOn: {failed: true}}
    - - {name: again, template: flakey}
      - {name: rand, template: rand, arguments: {parameters: [{name: model, value: model_a}]}}
  - name: flakey
    metrics:
      prometheus:
      - name: result_counter
        help: Count of step execution by result status
        labels: [{key: name, value: flakey}, {key: status, value: "{{status}}"}]
        counter: {value: "1"}
      - name: failures
        help: Failures only
        when: "{{status}} == Failed"
        counter: {value: "1"}
    container: {image: x}
  - name: rand
    inputs: {parameters: [{name: model}]}
    outputs: {parameters: [{name: v, valueFrom: {path: /tmp/v}}]}
    metrics:
      prometheus:
      - name: rand_histogram
        help: Value emitted by rand
        labels: [{key: model, value: "{{inputs.parameters.model}}"}]
        histogram: {value: "{{outputs.parameters.v}}", buckets: [2, 4]}
      - name: rand_duration
        help: How long rand took
        gauge: {value: "{{duration}}"}
    container: {image: x}
`,
      h,
      { metrics },
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(await samples(metrics, "argo_workflows_result_counter")).toEqual([
      'argo_workflows_result_counter{name="flakey",status="Failed"} 1',
      'argo_workflows_result_counter{name="flakey",status="Succeeded"} 1',
    ]);
    expect(await samples(metrics, "argo_workflows_failures")).toEqual(["argo_workflows_failures 1"]);
    expect(await samples(metrics, "argo_workflows_rand_histogram")).toEqual([
      'argo_workflows_rand_histogram_bucket{le="2",model="model_a"} 0',
      'argo_workflows_rand_histogram_bucket{le="4",model="model_a"} 1',
      'argo_workflows_rand_histogram_bucket{le="+Inf",model="model_a"} 1',
      'argo_workflows_rand_histogram_sum{model="model_a"} 3',
      'argo_workflows_rand_histogram_count{model="model_a"} 1',
    ]);
    expect(await samples(metrics, "argo_workflows_rand_duration")).toEqual([
      "argo_workflows_rand_duration 3",
    ]);
    expect(wf.status?.conditions?.map((c) => c.type)).toEqual(["Completed"]);
  });

  it("workflow metrics see the final workflow.status and workflow.duration", async () => {
    const metrics = new MetricsRegistry();
    const h = harness();
    h.exec.script("main", { duration: 90_000, exitCode: 2 });
    await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wm}
spec:
  entrypoint: main
  metrics:
    prometheus:
    - name: exec_duration_gauge
      help: Duration gauge by name
      labels: [{key: name, value: model_a}, {key: status, value: "{{workflow.status}}"}]
      gauge: {value: "{{workflow.duration}}"}
  templates:
  - name: main
    container: {image: x}
`,
      h,
      { metrics },
    );
    expect(await samples(metrics, "argo_workflows_exec_duration_gauge")).toEqual([
      'argo_workflows_exec_duration_gauge{name="model_a",status="Failed"} 90',
    ]);
  });

  it("realtime gauges follow the running node and stop when it ends", async () => {
    const metrics = new MetricsRegistry();
    const h = harness({ auto: false });
    h.exec.script("main", { duration: 30_000 });
    const running = start(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rt}
spec:
  entrypoint: main
  metrics:
    prometheus:
    - name: wf_running_seconds
      help: Workflow run time
      gauge: {value: "{{workflow.duration}}", realtime: true}
  templates:
  - name: main
    metrics:
      prometheus:
      - name: step_running_seconds
        help: Step run time
        gauge: {value: "{{duration}}", realtime: true}
    container: {image: x}
`,
      h,
      { metrics },
    );
    await until(() => h.exec.requests.length === 1);
    h.clock.advance(12_000);
    expect(await samples(metrics, "argo_workflows_step_running_seconds")).toEqual([
      "argo_workflows_step_running_seconds 12",
    ]);
    expect(await samples(metrics, "argo_workflows_wf_running_seconds")).toEqual([
      "argo_workflows_wf_running_seconds 12",
    ]);
    h.clock.setAutoAdvance(true);
    await running.done;
    h.clock.advance(60_000);
    expect(await samples(metrics, "argo_workflows_step_running_seconds")).toEqual([
      "argo_workflows_step_running_seconds 30",
    ]);
    expect(await samples(metrics, "argo_workflows_wf_running_seconds")).toEqual([
      "argo_workflows_wf_running_seconds 30",
    ]);
  });

  it("a metric that cannot be emitted sets a MetricsError condition; the run still succeeds", async () => {
    const metrics = new MetricsRegistry();
    const { wf } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: me}
spec:
  entrypoint: main
  templates:
  - name: main
    metrics:
      prometheus:
      - name: score
        help: Score
        gauge: {value: "{{outputs.result}}"}
    container: {image: x}
`,
      harness(),
      { metrics },
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(wf.status?.conditions).toEqual([
      {
        type: "MetricsError",
        status: "True",
        message: "SKF-METRIC-005: metric 'score': invalid metric value '{{outputs.result}}': not a number",
      },
      { type: "Completed", status: "True" },
    ]);
    expect(metrics.problems).toHaveLength(1);
  });

  it("nothing is computed without a metrics sink", async () => {
    const { wf } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ns}
spec:
  entrypoint: main
  templates:
  - name: main
    metrics: {prometheus: [{name: score, help: Score, gauge: {value: "{{outputs.result}}"}}]}
    container: {image: x}
`,
    );
    expect(wf.status?.conditions).toEqual([{ type: "Completed", status: "True" }]);
  });
});

describe("built-in metrics through the event listener", () => {
  it("counts the run's workflow and pod phases and step durations", async () => {
    const metrics = new MetricsRegistry();
    const h = harness();
    h.exec.script("a", { duration: 1_500 });
    h.exec.script("b", { exitCode: 1, duration: 20_000 });
    await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: bi}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
      - {name: b, template: t}
  - name: t
    container: {image: x}
`,
      h,
      {
        onEvent: (e) => {
          h.events.push(e);
          metrics.observe(e);
        },
      },
    );
    const text = await metrics.exposition();
    expect(text).toContain('argo_workflows_gauge{phase="Failed"} 1');
    expect(text).toContain('argo_workflows_total_count{phase="Running",namespace="default"} 1');
    expect(text).toContain('argo_workflows_total_count{phase="Failed",namespace="default"} 1');
    expect(text).toContain('argo_workflows_pods_total_count{phase="Succeeded",namespace="default"} 1');
    expect(text).toContain('argo_workflows_pods_total_count{phase="Failed",namespace="default"} 1');
    expect(text).toContain(
      'skiff_step_duration_seconds_count{namespace="default",template="t",phase="Succeeded"} 1',
    );
    expect(text).toContain(
      'skiff_step_duration_seconds_sum{namespace="default",template="t",phase="Failed"} 20',
    );
  });
});
