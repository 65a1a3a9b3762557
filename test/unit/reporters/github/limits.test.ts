import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../../runtime/testing/fake-clock.js";
import { compilePipeline, reporterOnMemory, WorkflowSim } from "./sim.js";

const WIDE = `kind: Pipeline
metadata:
  name: wide
tasks:
${Array.from({ length: 200 }, (_, i) => `  step-${i}:\n    run: echo ${i}\n`).join("")}`;

function maxPerWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe("GitHub limits with 200 steps", () => {
  it("stays within 80 writes a minute and 500 an hour, and reports every step", async () => {
    const { clock, github, reporter, times } = reporterOnMemory();
    const compiled = compilePipeline(WIDE, "wide-xyz12");
    const sim = new WorkflowSim(compiled, reporter.listener(compiled, "wide"), clock);
    sim.start();
    for (let i = 0; i < 200; i++) {
      sim.node(`step-${i}`, { phase: "Running" });
      await clock.sleep(500);
      sim.node(`step-${i}`, { phase: i === 150 ? "Failed" : "Succeeded" });
    }
    sim.finish("Failed");
    await reporter.flush();

    expect(github.checkRuns.size).toBe(201);
    expect([...github.checkRuns.values()].every((r) => r.status === "completed")).toBe(true);
    expect(github.byName("wide / step-150")?.conclusion).toBe("failure");
    expect(reporter.requests).toBe(github.calls.length);
    expect(github.calls.length).toBeLessThanOrEqual(500);
    expect(maxPerWindow(times, 60_000)).toBeLessThanOrEqual(80);
  });

  it("folds steps into the workflow's check when the hour's budget would run out", async () => {
    const { clock, github, reporter } = reporterOnMemory({ limits: { writesPerHour: 100 } });
    const compiled = compilePipeline(WIDE, "wide-xyz12");
    const sim = new WorkflowSim(compiled, reporter.listener(compiled, "wide"), clock);
    sim.start();
    for (let i = 0; i < 200; i++) {
      sim.node(`step-${i}`, { phase: "Running" });
      await clock.sleep(2000);
      sim.node(`step-${i}`, { phase: "Succeeded" });
    }
    sim.finish("Succeeded");
    await reporter.flush();
    expect(github.calls.length).toBeLessThanOrEqual(100);
    const wf = github.byName("wide")!;
    expect(wf.conclusion).toBe("success");
    expect(wf.output!.summary).toMatch(/\d+ steps have no check run of their own/);
    expect(wf.output!.summary).toContain("| step-199 |");
  });

  it("never makes the workflow wait: events return at once while GitHub has not answered", async () => {
    const { clock, github, reporter } = reporterOnMemory({}, new FakeClock({ start: Date.UTC(2026, 0, 1) }));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const create = github.createCheckRun.bind(github);
    let answered = 0;
    github.createCheckRun = async (req) => {
      await gate;
      answered++;
      return create(req);
    };
    const compiled = compilePipeline(WIDE, "wide-xyz12");
    const sim = new WorkflowSim(compiled, reporter.listener(compiled, "wide"), clock);
    sim.start();
    for (let i = 0; i < 200; i++) {
      sim.node(`step-${i}`, { phase: "Running" });
      sim.node(`step-${i}`, { phase: "Succeeded" });
    }
    sim.finish("Succeeded");
    // The whole run's events were handled synchronously before GitHub answered a single request.
    expect(answered).toBe(0);
    release();
    const flushed = reporter.flush();
    for (let i = 0; i < 10; i++) clock.advance(60_000);
    await Promise.race([flushed, new Promise((r) => setTimeout(r, 0))]);
    expect(answered).toBeGreaterThan(0);
  });
});
