import { describe, expect, it } from "vitest";
import { GitHubRequestError, type CheckRunFields } from "../../../../src/reporters/github-checks/client.js";
import type { GitHubChecksReporterOptions } from "../../../../src/reporters/github-checks/reporter.js";
import type { MemoryGitHub } from "../../../../src/testing/memory-github.js";
import { compilePipeline, reporterOnMemory, WorkflowSim } from "./sim.js";

const wide = (n: number) => `kind: Pipeline
metadata:
  name: wide
tasks:
${Array.from({ length: n }, (_, i) => `  step-${i}:\n    run: echo ${i}\n`).join("")}`;

function setup(steps: number, options: Partial<GitHubChecksReporterOptions> = {}) {
  const { clock, github, reporter, times, warnings } = reporterOnMemory(options);
  const compiled = compilePipeline(wide(steps), "wide-xyz12");
  const sim = new WorkflowSim(compiled, reporter.listener(compiled, "wide"), clock);
  return { clock, github, reporter, sim, times, warnings };
}

/** Writes per check run name, in the order they went out. */
function writesByName(github: MemoryGitHub): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of github.calls) {
    const name =
      c.method === "createCheckRun"
        ? (c.args[0] as { name: string }).name
        : github.checkRuns.get(c.args[0] as number)!.name;
    const body = (c.method === "createCheckRun" ? c.args[0] : c.args[1]) as CheckRunFields;
    out.set(name, [...(out.get(name) ?? []), `${c.method}:${body.status ?? body.conclusion}`]);
  }
  return out;
}

describe("coalesced check-run writes", () => {
  it("creates a step that ends within a few seconds once, completed: 40 parallel steps cost 42 writes", async () => {
    const { github, reporter, sim, clock } = setup(40);
    sim.start();
    for (let i = 0; i < 40; i++) sim.node(`step-${i}`, { phase: "Running" });
    await clock.sleep(1000);
    for (let i = 0; i < 40; i++) sim.node(`step-${i}`, { phase: i === 7 ? "Failed" : "Succeeded" });
    sim.finish("Failed");
    await reporter.finish();
    expect(github.calls).toHaveLength(42);
    const writes = writesByName(github);
    expect(writes.get("wide")).toEqual(["createCheckRun:in_progress", "updateCheckRun:completed"]);
    for (let i = 0; i < 40; i++) expect(writes.get(`wide / step-${i}`)).toEqual(["createCheckRun:completed"]);
    expect(github.byName("wide / step-7")).toMatchObject({
      status: "completed",
      conclusion: "failure",
      started_at: expect.any(String),
      output: { title: expect.stringContaining("step-7 failed") },
    });
    // The failure annotation came with the create: no further request was needed.
    expect(github.byName("wide / step-7")!.annotations).toEqual([
      expect.objectContaining({ path: ".skiff/ci.yaml", annotation_level: "failure" }),
    ]);
    expect(reporter.openChecks()).toEqual([]);
  });

  it("creates a longer step in progress, then completes it: two writes whatever happens between", async () => {
    const { github, reporter, sim, clock } = setup(1);
    sim.start();
    sim.node("step-0", { phase: "Running" });
    await clock.sleep(6000);
    expect(writesByName(github).get("wide / step-0")).toEqual(["createCheckRun:in_progress"]);
    for (let i = 0; i < 5; i++) {
      sim.node("step-0", { phase: "Running", message: `progress ${i}` });
      sim.log("step-0", `line ${i}`);
      await clock.sleep(10_000);
    }
    sim.node("step-0", { phase: "Succeeded" });
    sim.finish("Succeeded");
    await reporter.finish();
    expect(writesByName(github).get("wide / step-0")).toEqual([
      "createCheckRun:in_progress",
      "updateCheckRun:completed",
    ]);
    expect(github.byName("wide / step-0")!.output!.text).toContain("line 4");
  });

  it("sends a step's check as soon as the step ends, not when its hold is over", async () => {
    const { github, sim, clock } = setup(2);
    clock.setAutoAdvance(false);
    sim.start();
    sim.node("step-0", { phase: "Running" });
    sim.node("step-1", { phase: "Running" });
    await new Promise((r) => setTimeout(r, 10));
    clock.advance(1000);
    sim.node("step-0", { phase: "Succeeded" });
    await new Promise((r) => setTimeout(r, 10));
    expect(github.byName("wide / step-0")).toMatchObject({ status: "completed", conclusion: "success" });
    expect(github.byName("wide / step-1")).toBeUndefined();
  });

  it("sends what is still held as soon as the workflow ends", async () => {
    const { github, reporter, sim, clock, times } = setup(3);
    sim.start();
    for (let i = 0; i < 3; i++) sim.node(`step-${i}`, { phase: "Running" });
    await clock.sleep(100);
    // The workflow is stopped while its steps run: they are sent at once, not after their hold.
    for (let i = 0; i < 3; i++)
      sim.node(`step-${i}`, { phase: "Failed", message: "Stopped with strategy 'Stop'" });
    const end = clock.now();
    sim.finish("Failed", "Stopped with strategy 'Stop'");
    await reporter.finish();
    expect(github.calls).toHaveLength(5);
    expect(Math.max(...times)).toBe(end);
  });
});

describe("pacing under GitHub's limits", () => {
  it("sends the workflow's check first, then failed steps, then the rest, and never idles", async () => {
    const { github, reporter, sim, clock, times } = setup(30, {
      limits: { writesPerMinute: 10, reservedWritesPerMinute: 2 },
    });
    sim.start();
    for (let i = 0; i < 30; i++) sim.node(`step-${i}`, { phase: "Running" });
    await clock.sleep(500);
    for (let i = 0; i < 30; i++) sim.node(`step-${i}`, { phase: i % 10 === 9 ? "Failed" : "Succeeded" });
    sim.finish("Failed");
    const end = clock.now();
    await reporter.finish();
    expect(github.calls).toHaveLength(32);
    const order = [...writesByName(github).keys()];
    // step-9, 19 and 29 failed: once the workflow's check is complete they go before the others.
    const after = github.calls.findIndex(
      (c) => c.method === "updateCheckRun" && (c.args[1] as CheckRunFields).status === "completed",
    );
    const names = github.calls
      .slice(after + 1)
      .map((c) => (c.method === "createCheckRun" ? (c.args[0] as { name: string }).name : ""));
    expect(names.slice(0, 3).sort()).toEqual(["wide / step-19", "wide / step-29", "wide / step-9"]);
    expect(order[0]).toBe("wide");
    // Every window of a minute holds at most 10 writes, and no write waited beyond what the limit asks:
    // the n-th write after the end goes out as soon as the window has room for it.
    for (let i = 10; i < times.length; i++) expect(times[i]! - times[i - 10]!).toBeGreaterThanOrEqual(60_000);
    // Ordinary writes may use 8 of the 10 tokens: none waited longer than the window asked.
    for (let i = 1; i < times.length; i++) {
      if (times[i]! <= end) continue;
      const allowed = Math.max(end, times[i - 1]!, i >= 8 ? times[i - 8]! + 60_000 : -Infinity);
      expect(times[i]).toBeLessThanOrEqual(allowed);
    }
  });

  it("waits out a secondary rate limit for every write, then goes on", async () => {
    const { github, reporter, sim, clock, times, warnings } = setup(4);
    github.failures.push({
      error: new GitHubRequestError(403, "You have exceeded a secondary rate limit", {
        retryAfterMs: 20_000,
        rateLimited: true,
      }),
    });
    sim.start();
    await clock.sleep(10);
    for (let i = 0; i < 4; i++) sim.node(`step-${i}`, { phase: "Running" });
    for (let i = 0; i < 4; i++) sim.node(`step-${i}`, { phase: "Succeeded" });
    sim.finish("Succeeded");
    await reporter.finish();
    expect(warnings).toEqual([]);
    expect(github.checkRuns.size).toBe(5);
    // The first write was refused; everything after it went out once the 20 s were over.
    expect(times.slice(1).every((t) => t >= times[0]! + 20_000)).toBe(true);
  });

  it("follows the primary limit GitHub's headers report", async () => {
    const { github, reporter, sim, clock, times } = setup(3);
    const create = github.createCheckRun.bind(github);
    let remaining = 2;
    const resetAt = clock.now() + 45_000;
    github.createCheckRun = async (req) => ({
      ...(await create(req)),
      rateLimit: { limit: 1000, remaining: --remaining, resetAt },
    });
    sim.start();
    for (let i = 0; i < 3; i++) sim.node(`step-${i}`, { phase: "Running" });
    for (let i = 0; i < 3; i++) sim.node(`step-${i}`, { phase: "Succeeded" });
    sim.finish("Succeeded");
    await reporter.finish();
    expect(github.checkRuns.size).toBe(4);
    // Two writes spent the quota; the rest waited for its reset and then went out at once.
    expect(times.filter((t) => t < resetAt)).toHaveLength(2);
    expect(times.filter((t) => t >= resetAt).every((t) => t === resetAt)).toBe(true);
  });

  it("falls back rather than wait an hour for the primary limit", async () => {
    const { github, reporter, sim, clock, warnings } = setup(1);
    const create = github.createCheckRun.bind(github);
    github.createCheckRun = async (req) => ({
      ...(await create(req)),
      rateLimit: { limit: 1000, remaining: 0, resetAt: clock.now() + 3_600_000 },
    });
    sim.start();
    sim.node("step-0", { phase: "Running" });
    sim.node("step-0", { phase: "Succeeded" });
    sim.finish("Succeeded");
    await reporter.finish();
    expect(github.calls).toHaveLength(1);
    expect(warnings.map((w) => w.code)).toEqual(["SKF-GH-002"]);
    expect(warnings[0]!.message).toMatch(/rate limits allow the next check-run write in 3600s/);
    expect(reporter.fellBack).toBe(true);
  });

  it("gives a burst of steps no more checks than can be written before the job moves on", async () => {
    // finish() waits 2 minutes: a minute of ordinary writes (76), less the workflow check and its update.
    const { github, reporter, sim, clock, times } = setup(200, { finishTimeoutMs: 2 * 60_000 });
    sim.start();
    for (let i = 0; i < 200; i++) sim.node(`step-${i}`, { phase: "Running" });
    await clock.sleep(1000);
    for (let i = 0; i < 200; i++) sim.node(`step-${i}`, { phase: "Succeeded" });
    const end = clock.now();
    sim.finish("Succeeded");
    await reporter.finish();
    expect(github.checkRuns.size).toBe(75);
    expect([...github.checkRuns.values()].every((r) => r.status === "completed")).toBe(true);
    expect(Math.max(...times) - end).toBeLessThan(2 * 60_000);
    expect(github.byName("wide")!.output!.summary).toContain(
      "126 steps have no check run of their own: GitHub takes 80 check-run requests a minute and 500 an hour, and a check suite holds 1000 check runs.",
    );
    expect(reporter.fellBack).toBe(false);
  });
});
