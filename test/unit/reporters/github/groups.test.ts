import { describe, expect, it } from "vitest";
import type { GitHubChecksReporterOptions } from "../../../../src/reporters/github-checks/reporter.js";
import { groupCheckName, loopItemOf } from "../../../../src/reporters/github-checks/groups.js";
import type { NodePhase, NodeStatus } from "../../../../runtime/spec/types.js";
import { compilePipeline, reporterOnMemory, WorkflowSim } from "./sim.js";

const LOOP = `kind: Pipeline
metadata:
  name: loop
tasks:
  fan:
    run: echo item
  other:
    run: echo other
`;

function setup(options: Partial<GitHubChecksReporterOptions> = {}) {
  const { clock, github, reporter } = reporterOnMemory({
    jobUrl: "https://github.com/acme/app/actions/runs/42",
    ...options,
  });
  const compiled = compilePipeline(LOOP, "loop-abcde");
  const sim = new WorkflowSim(compiled, reporter.listener(compiled, "loop"), clock);
  return { clock, github, reporter, sim };
}

/** A DAG task looping over items: a TaskGroup node with one child per item. */
function loop(sim: WorkflowSim) {
  sim.node("fan", { type: "TaskGroup", phase: "Running", templateName: "fan" });
  const item = (i: number, phase: NodePhase, extra: Partial<NodeStatus> = {}) =>
    sim.node(`fan(${i}:item-${i})`, {
      id: `loop-abcde-fan-${i}`,
      parent: "loop-abcde-fan",
      templateName: "fan",
      phase,
      ...extra,
    });
  return { item, end: (phase: NodePhase) => sim.node("fan", { type: "TaskGroup", phase }) };
}

/** A workflow that is one loop of `n` items, each succeeding at once. */
async function runQuickLoop(n: number, limits: GitHubChecksReporterOptions["limits"]) {
  const { github, reporter, sim } = setup({ limits });
  sim.start();
  const l = loop(sim);
  for (let i = 0; i < n; i++) l.item(i, "Succeeded");
  l.end("Succeeded");
  sim.finish("Succeeded");
  await reporter.finish();
  return { github, reporter };
}

describe("loop items", () => {
  it("reads Argo's item names, innermost loop first, and leaves retry attempts alone", () => {
    const node = (name: string) => ({
      id: name,
      name,
      displayName: name,
      type: "Pod" as const,
      phase: "Pending" as const,
    });
    expect(loopItemOf(node("wf.fan(3:a b)"))).toEqual({ key: "wf.fan", index: 3, item: "a b" });
    expect(loopItemOf(node('wf[0].outer(1:x).inner(0:{"k":1})'))).toEqual({
      key: "wf[0].outer(1:x).inner",
      index: 0,
      item: '{"k":1}',
    });
    expect(loopItemOf(node("wf.lint(1)"))).toBeUndefined();
    expect(loopItemOf(node("wf.lint"))).toBeUndefined();
    expect(groupCheckName("ci", "wf[0].fan", "wf")).toBe("ci / fan (loop)");
  });
});

describe("grouped loops", () => {
  it("reports a 1,000-item loop as one check run with a table of items, failures first", async () => {
    const { github, reporter, sim, clock } = setup();
    sim.start();
    const l = loop(sim);
    for (let i = 0; i < 1000; i++) l.item(i, "Running");
    sim.node("other", { phase: "Running" });
    await clock.sleep(1000);
    for (let i = 0; i < 1000; i++) {
      if (i % 400 === 399)
        sim.log(`fan(${i})`, `src/item.ts:${i}: error: item ${i} broke`, `loop-abcde-fan-${i}`);
      l.item(
        i,
        i % 400 === 399 ? "Failed" : "Succeeded",
        i % 400 === 399 ? { message: "Error (exit code 1)" } : {},
      );
    }
    l.end("Failed");
    sim.node("other", { phase: "Succeeded" });
    sim.finish("Failed");
    await reporter.finish();

    expect([...github.checkRuns.values()].map((r) => [r.name, r.status, r.conclusion])).toEqual([
      ["loop", "completed", "failure"],
      // Failed before succeeded.
      ["loop / fan (loop)", "completed", "failure"],
      ["loop / other", "completed", "success"],
    ]);
    // The workflow's check twice, one write each for the others.
    expect(github.calls).toHaveLength(4);
    const group = github.byName("loop / fan (loop)")!;
    expect(group.output!.title).toBe("❌ fan: 2 of 1000 items failed");
    const summary = group.output!.summary;
    expect(summary).toContain("| loop | loop-abcde | fan | 1000 | 998 | 2 | 0 | 1s |");
    const rows = summary.split("\n").filter((l) => /^\| (✅|❌) \| \d+ \|/.test(l));
    expect(rows[0]).toBe(
      "| ❌ | 399 | item-399 | Failed Error (exit code 1) | 1s | [log](https://github.com/acme/app/actions/runs/42) |",
    );
    expect(rows[1]).toMatch(/^\| ❌ \| 799 \|/);
    expect(rows[2]).toMatch(/^\| ✅ \| 0 \| item-0 \| Succeeded \| 1s \|/);
    expect(summary).toContain("750 more items are listed in the job summary");
    expect(group.output!.text).toContain("item 399 broke");
    expect(group.annotations.map((a) => `${a.path}:${a.start_line}`)).toEqual([
      ".skiff/ci.yaml:5",
      "src/item.ts:399",
      ".skiff/ci.yaml:5",
      "src/item.ts:799",
    ]);
    expect(github.byName("loop")!.output!.summary).toContain("`loop / fan (loop)`");
    expect(reporter.reportingNotes()).toEqual([
      "loop: the 1000 items of loop `fan` are reported as one check run, `loop / fan (loop)` (loops of more than 20 items are grouped).",
    ]);
  });

  it("gives each item its own check up to the threshold", async () => {
    const { github, reporter, sim, clock } = setup();
    sim.start();
    const l = loop(sim);
    for (let i = 0; i < 20; i++) l.item(i, "Running");
    await clock.sleep(1000);
    for (let i = 0; i < 20; i++) l.item(i, "Succeeded");
    l.end("Succeeded");
    sim.finish("Succeeded");
    await reporter.finish();
    expect(github.checkRuns.size).toBe(21);
    expect(github.byName("loop / fan(19:item-19)")).toMatchObject({ conclusion: "success" });
    expect(reporter.reportingNotes()).toEqual([]);
  });

  it("does not group with a threshold of 0", async () => {
    const { github } = await runQuickLoop(30, { groupThreshold: 0 });
    expect(github.checkRuns.size).toBe(31);
  });

  it("groups a loop that grows past the threshold; items already shown keep their checks", async () => {
    const { github, reporter, sim, clock } = setup({ limits: { groupThreshold: 3 } });
    sim.start();
    const l = loop(sim);
    // Items one after another (parallelism 1), each longer than a check is held.
    for (let i = 0; i < 6; i++) {
      l.item(i, "Running");
      await clock.sleep(10_000);
      l.item(i, "Succeeded");
    }
    l.end("Succeeded");
    sim.finish("Succeeded");
    await reporter.finish();
    expect([...github.checkRuns.values()].map((r) => [r.name, r.status])).toEqual([
      ["loop", "completed"],
      ["loop / fan(0:item-0)", "completed"],
      ["loop / fan(1:item-1)", "completed"],
      ["loop / fan(2:item-2)", "completed"],
      ["loop / fan (loop)", "completed"],
    ]);
    expect(github.byName("loop / fan (loop)")!.output!.title).toBe("✅ fan: 6 items succeeded in 1m");
    expect(reporter.openChecks()).toEqual([]);
  });

  it("keeps a loop of steps in a steps template open until its step group ends", async () => {
    const { github, reporter, sim, clock } = setup({ limits: { groupThreshold: 2 } });
    sim.start();
    sim.node("[0]", { name: "loop-abcde[0]", type: "StepGroup", phase: "Running" });
    const item = (i: number, phase: NodePhase) =>
      sim.node(`[0].fan(${i}:${i})`, {
        id: `sg-${i}`,
        name: `loop-abcde[0].fan(${i}:${i})`,
        parent: "loop-abcde-[0]",
        templateName: "fan",
        phase,
      });
    for (let i = 0; i < 3; i++) item(i, "Running");
    await clock.sleep(6000);
    expect(github.byName("loop / fan (loop)")).toMatchObject({ status: "in_progress" });
    for (let i = 0; i < 3; i++) item(i, "Succeeded");
    await clock.sleep(5000);
    // Every item seen has ended, but its group may still start more.
    expect(github.byName("loop / fan (loop)")).toMatchObject({ status: "in_progress" });
    sim.node("[0]", { name: "loop-abcde[0]", type: "StepGroup", phase: "Succeeded" });
    await reporter.flush();
    expect(github.byName("loop / fan (loop)")).toMatchObject({ status: "completed", conclusion: "success" });
    sim.finish("Succeeded");
    await reporter.finish();
    expect(github.checkRuns.size).toBe(2);
  });

  it("keeps every retry of a step in the step's one check, a row per attempt with a link to the logs", async () => {
    const { github, reporter, sim } = setup();
    sim.start();
    sim.node("other", { type: "Retry", phase: "Running" });
    for (let i = 0; i < 25; i++)
      sim.node(`other(${i})`, {
        id: `loop-abcde-other-${i}`,
        parent: "loop-abcde-other",
        templateName: "other",
        phase: i < 24 ? "Failed" : "Succeeded",
        ...(i < 24 ? { message: "Error (exit code 1)" } : {}),
      });
    sim.node("other", { type: "Retry", phase: "Succeeded" });
    sim.finish("Succeeded");
    await reporter.finish();
    expect([...github.checkRuns.values()].map((r) => r.name)).toEqual(["loop", "loop / other"]);
    const summary = github.byName("loop / other")!.output!.summary;
    expect(summary).toContain("| # | Phase | Duration | Message | Logs |");
    expect(summary).toContain(
      "| 25 | ✅ Succeeded |  |  | [log](https://github.com/acme/app/actions/runs/42) |",
    );
  });

  it("never creates more check runs than a suite holds", async () => {
    const { github, reporter } = await runQuickLoop(30, { maxCheckRuns: 10, groupThreshold: 0 });
    expect(github.checkRuns.size).toBeLessThanOrEqual(10);
    expect(github.byName("loop")!.output!.summary).toMatch(/\d+ steps have no check run of their own/);
    expect(reporter.reportingNotes()[0]).toMatch(/^loop: \d+ steps have no check run of their own/);
  });
});
