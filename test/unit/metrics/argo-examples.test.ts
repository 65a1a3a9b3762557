import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startWorkflow, SyncManager } from "../../../runtime/controller/index.js";
import { MetricsRegistry, validateMetricDefinitions } from "../../../runtime/metrics/index.js";
import { compile, Library, parseManifests } from "../../../runtime/spec/index.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { FakeClock } from "../../../runtime/testing/fake-clock.js";
import { FakeExecutor } from "../../../runtime/testing/fake-executor.js";

const DIR = join(process.cwd(), "../shared/conformance/argo-examples");
const present = existsSync(DIR);
if (!present) console.warn(`skipping Argo metric examples: ${DIR} not found`);

/** Runs one of Argo's examples with the fake executor and a metrics registry. */
async function runExample(file: string, exec: (clock: FakeClock) => FakeExecutor) {
  const loaded = parseManifests(readFileSync(join(DIR, file), "utf8"), file);
  const manifest = loaded.manifests.find((m) => m.object.kind === "Workflow");
  if (!manifest) throw new Error(`no Workflow in ${file}`);
  const compiled = compile(manifest, Library.from(loaded.manifests), { name: "ex" });
  const clock = new FakeClock({ autoAdvance: true });
  const metrics = new MetricsRegistry();
  const wf = await startWorkflow(compiled, {
    executor: exec(clock),
    clock,
    synchronization: new SyncManager(),
    metrics,
    onEvent: metrics.listener(),
  }).done;
  return { wf, metrics, text: await metrics.exposition() };
}

function definitionsOf(wf: Workflow): unknown[][] {
  const prom = (m: unknown) => ((m as { prometheus?: unknown[] } | undefined)?.prometheus ?? []) as unknown[];
  return [prom(wf.spec.metrics), ...(wf.spec.templates ?? []).map((t) => prom(t.metrics))];
}

describe.skipIf(!present)("Argo's metric examples", () => {
  it("dag-custom-metrics.yaml: workflow and task metrics, one series per task and status", async () => {
    const { wf, metrics, text } = await runExample(
      "dag-custom-metrics.yaml",
      (clock) => new FakeExecutor({ clock, defaultScript: { duration: 4_000 } }),
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(metrics.problems).toEqual([]);
    for (const tag of ["TEST-ONE-A", "TEST-ONE-B", "TEST-TWO-A", "TEST-TWO-B"]) {
      expect(text).toContain(
        `argo_workflows_playground_workflow_duration_task_seconds{playground_task_name="${tag}",status="Succeeded"} 4`,
      );
      expect(text).toContain(
        `argo_workflows_playground_workflow_result_task_counter{playground_task_name_counter="${tag}",status="Succeeded"} 1`,
      );
    }
    expect(text).toContain(
      'argo_workflows_playground_workflow_result_counter{playground_id_workflow_counter="test",status="Succeeded"} 1',
    );
    expect(text).toContain(
      'argo_workflows_playground_workflow_duration{playground_id_workflow="test",status="Succeeded"} 4',
    );
  });

  it("custom-metrics.yaml: realtime gauges, a histogram of a step output, a counter by status", async () => {
    const { wf, metrics, text } = await runExample("custom-metrics.yaml", (clock) =>
      new FakeExecutor({ clock, defaultScript: { duration: 2_000 } })
        .script("random-int", { outputParameters: { "rand-int-value": "5" }, duration: 3_000 })
        .script("flakey", { exitCode: 1, duration: 1_000 }),
    );
    expect(metrics.problems).toEqual([]);
    expect(wf.status?.conditions?.some((c) => c.type === "MetricsError")).toBe(false);
    expect(text).toContain('argo_workflows_random_int_step_histogram_bucket{le="4.01"} 0');
    expect(text).toContain('argo_workflows_random_int_step_histogram_bucket{le="6.01"} 1');
    expect(text).toContain('argo_workflows_result_counter{name="flakey",status="Failed"} 1');
    // Realtime gauges keep the final durations of the run (whole seconds from the node timestamps).
    expect(text).toMatch(/argo_workflows_duration_gauge\{name="workflow"\} \d+/);
    expect(text).toContain('argo_workflows_duration_gauge{name="steps"} 4');
  });

  it("every metric definition in the examples passes validation", () => {
    for (const file of ["custom-metrics.yaml", "dag-custom-metrics.yaml", "variables-showcase.yaml"]) {
      const loaded = parseManifests(readFileSync(join(DIR, file), "utf8"), file);
      for (const m of loaded.manifests) {
        for (const defs of definitionsOf(m.object as Workflow)) {
          expect(validateMetricDefinitions(defs, file).map((p) => p.message)).toEqual([]);
        }
      }
    }
  });
});
