import { describe, expect, it } from "vitest";
import type { FakeClock } from "../../../../runtime/testing/fake-clock.js";
import { GitHubRequestError } from "../../../../src/reporters/github-checks/client.js";
import type { GitHubChecksReporterOptions } from "../../../../src/reporters/github-checks/reporter.js";
import { SkiffError } from "../../../../runtime/errors/index.js";
import { CI_TEXT, compilePipeline, reporterOnMemory, WORKSPACE, WorkflowSim } from "./sim.js";

function setup(options: Partial<GitHubChecksReporterOptions> = {}) {
  const { clock, github, reporter, warnings } = reporterOnMemory({ secrets: ["s3cr3t-value"], ...options });
  const compiled = compilePipeline(CI_TEXT);
  const sim = new WorkflowSim(compiled, reporter.listener(compiled, "ci"), clock);
  return { clock, github, reporter, sim, warnings };
}

/** Runs the ci pipeline: lint, build, test pass; deploy fails with a compiler-style log line. */
async function runFailing(sim: WorkflowSim, clock: FakeClock) {
  sim.start();
  sim.node("lint", { phase: "Running" });
  sim.node("build", { phase: "Running" });
  await clock.sleep(2000);
  sim.node("lint", { phase: "Succeeded" });
  sim.log("build", "built with token s3cr3t-value");
  sim.node("build", { phase: "Succeeded", outputs: { exitCode: "0" } });
  sim.node("test", { phase: "Running" });
  sim.log("test", "src/app.ts:3:7: warning: unused variable x");
  await clock.sleep(5000);
  sim.node("test", { phase: "Succeeded" });
  sim.node("deploy", { phase: "Running" });
  sim.log("deploy", "deploy.sh:12: permission denied");
  await clock.sleep(1000);
  sim.node("deploy", { phase: "Failed", message: "Error (exit code 1)", outputs: { exitCode: "1" } });
  return sim.finish("Failed", "child 'ci-abcde-deploy' failed");
}

describe("GitHub check-run reporter", () => {
  it("creates one check per workflow and per step, completed with the right conclusions", async () => {
    const { github, reporter, sim, clock, warnings } = setup();
    await runFailing(sim, clock);
    await reporter.flush();
    expect(warnings).toEqual([]);
    const runs = [...github.checkRuns.values()].map((r) => [r.name, r.status, r.conclusion]);
    expect(runs).toEqual([
      ["ci", "completed", "failure"],
      ["ci / lint", "completed", "success"],
      ["ci / build", "completed", "success"],
      ["ci / test", "completed", "success"],
      ["ci / deploy", "completed", "failure"],
    ]);
    expect(reporter.openChecks()).toEqual([]);
    expect(github.calls.every((c) => (c.args[0] as { head_sha?: string }).head_sha !== "")).toBe(true);
  });

  it("creates step checks in_progress when they start", async () => {
    const { github, reporter, sim } = setup();
    sim.start();
    sim.node("lint", { phase: "Running" });
    await reporter.flush();
    expect(github.byName("ci / lint")).toMatchObject({
      status: "in_progress",
      started_at: expect.any(String),
    });
    expect(github.byName("ci")).toMatchObject({ status: "in_progress" });
    expect(reporter.openChecks().map((c) => c.name)).toEqual(["ci", "ci / lint"]);
  });

  it("annotates a failed step at its template's line and log lines at their files", async () => {
    const { github, reporter, sim, clock } = setup();
    await runFailing(sim, clock);
    await reporter.flush();
    expect(github.byName("ci / deploy")!.annotations).toEqual([
      {
        path: ".skiff/ci.yaml",
        start_line: 14,
        end_line: 14,
        annotation_level: "failure",
        title: "Step deploy failed",
        message: "Error (exit code 1)",
      },
      {
        path: "deploy.sh",
        start_line: 12,
        end_line: 12,
        annotation_level: "failure",
        title: "deploy",
        message: "permission denied",
      },
    ]);
    expect(github.byName("ci / test")!.annotations).toEqual([
      expect.objectContaining({
        path: "src/app.ts",
        start_line: 3,
        start_column: 7,
        annotation_level: "warning",
      }),
    ]);
    // The workflow's check repeats the failure so it shows on the pull request once per pipeline.
    expect(github.byName("ci")!.annotations).toEqual([
      expect.objectContaining({ path: ".skiff/ci.yaml", start_line: 14 }),
    ]);
  });

  it("never shows a secret in any output", async () => {
    const { github, reporter, sim, clock } = setup();
    await runFailing(sim, clock);
    await reporter.flush();
    const everything = JSON.stringify(github.calls);
    expect(everything).not.toContain("s3cr3t-value");
    expect(JSON.stringify(github.byName("ci / build")!.output)).toContain("built with token ***");
  });

  it("reports only the workflow with checks: workflow, carrying every annotation", async () => {
    const { github, reporter, sim, clock } = setup({ checks: "workflow" });
    await runFailing(sim, clock);
    await reporter.flush();
    expect([...github.checkRuns.values()].map((r) => r.name)).toEqual(["ci"]);
    expect(github.byName("ci")!.annotations!.map((a) => `${a.path}:${a.start_line}`)).toEqual([
      "src/app.ts:3",
      ".skiff/ci.yaml:14",
      "deploy.sh:12",
    ]);
    expect(github.calls).toHaveLength(2);
  });

  it("sends nothing with checks: none and keeps the annotations for workflow commands", async () => {
    const { github, reporter, sim, clock } = setup({ checks: "none" });
    await runFailing(sim, clock);
    await reporter.flush();
    expect(github.calls).toEqual([]);
    expect(reporter.fellBack).toBe(true);
    expect(reporter.unsentAnnotations().map((a) => `${a.annotation_level} ${a.path}`)).toEqual([
      "failure .skiff/ci.yaml",
      "failure deploy.sh",
      "warning src/app.ts",
    ]);
  });

  it("sends annotations 50 per request", async () => {
    const { github, reporter, sim } = setup({ checks: "steps" });
    sim.start();
    sim.node("lint", { phase: "Running" });
    for (let i = 1; i <= 120; i++) sim.log("lint", `src/file${i}.ts:${i}: error: bad`);
    sim.node("lint", { phase: "Failed", message: "Error (exit code 1)" });
    sim.finish("Failed");
    await reporter.flush();
    const lint = github.byName("ci / lint")!;
    expect(lint.annotationsReceived).toBe(121);
    const sizes = github.calls
      .filter((c) => {
        const body = (c.method === "createCheckRun" ? c.args[0] : c.args[1]) as { name?: string };
        return c.method === "createCheckRun" ? body.name === "ci / lint" : c.args[0] === lint.id;
      })
      .map((c) => {
        const body = (c.method === "createCheckRun" ? c.args[0] : c.args[1]) as {
          output?: { annotations?: unknown[] };
        };
        return body.output?.annotations?.length ?? 0;
      });
    expect(Math.max(...sizes)).toBeLessThanOrEqual(50);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(121);
  });

  it("retries 5xx with backoff and honours Retry-After on rate limits", async () => {
    const { github, reporter, sim, clock } = setup({ checks: "workflow" });
    const slept: number[] = [];
    const sleep = clock.sleep.bind(clock);
    clock.sleep = (ms, signal) => {
      slept.push(ms);
      return sleep(ms, signal);
    };
    github.failures.push(
      { error: new GitHubRequestError(502, "Bad Gateway") },
      {
        error: new GitHubRequestError(403, "You have exceeded a secondary rate limit", {
          retryAfterMs: 30_000,
          rateLimited: true,
        }),
      },
    );
    sim.start();
    await reporter.flush();
    expect(slept).toEqual([1000, 30_000]);
    expect(github.checkRuns.size).toBe(1);
    expect(reporter.fellBack).toBe(false);
    expect(reporter.requests).toBe(3);
  });

  it("falls back with one warning when the token cannot write checks (fork pull requests)", async () => {
    const { github, reporter, sim, clock, warnings } = setup();
    github.failAlways = { error: new GitHubRequestError(403, "Resource not accessible by integration") };
    await runFailing(sim, clock);
    await reporter.flush();
    expect(warnings.map((w) => w.code)).toEqual(["SKF-GH-001"]);
    expect(warnings[0]!.message).toContain("403");
    expect(reporter.fellBack).toBe(true);
    expect(github.calls.length).toBe(2);
    expect(reporter.unsentAnnotations().filter((a) => a.annotation_level === "failure")).toHaveLength(2);
  });

  it("gives up on a Retry-After longer than it may wait", async () => {
    const { github, reporter, sim, warnings } = setup();
    github.failAlways = {
      error: new GitHubRequestError(429, "API rate limit exceeded", {
        retryAfterMs: 3_600_000,
        rateLimited: true,
      }),
    };
    sim.start();
    await reporter.flush();
    expect(warnings.map((w) => w.code)).toEqual(["SKF-GH-002"]);
    expect(github.calls).toHaveLength(1);
  });

  it("retries a 422 once with a smaller output", async () => {
    const { github, reporter, sim } = setup({ checks: "workflow" });
    github.failures.push({ error: new GitHubRequestError(422, "Validation Failed") });
    sim.start();
    await reporter.flush();
    expect(github.calls).toHaveLength(2);
    const retried = github.calls[1]!.args[0] as { output: { text?: string } };
    expect(retried.output.text).toBeUndefined();
    expect(reporter.fellBack).toBe(false);
  });

  it("reports a pipeline that did not run as a completed neutral check", async () => {
    const { github, reporter } = setup();
    reporter.reportNotRun("ci", "Skipped: [skip ci]", "The head commit says [skip ci].");
    await reporter.flush();
    expect(github.byName("ci")).toMatchObject({
      status: "completed",
      conclusion: "neutral",
      output: { title: "Skipped: [skip ci]" },
    });
  });

  it("maps timeouts and cancellations to their conclusions", async () => {
    const { github, reporter, sim } = setup();
    sim.start();
    sim.node("lint", { phase: "Running" });
    sim.node("build", { phase: "Running" });
    sim.node("lint", {
      phase: "Failed",
      message: "Pod was active on the node longer than the specified deadline",
    });
    sim.node("build", { phase: "Failed", message: "Stopped with strategy 'Terminate'" });
    sim.node("test", { type: "Skipped", phase: "Omitted", message: "omitted: depends condition not met" });
    sim.finish("Failed", "Stopped with strategy 'Terminate'");
    await reporter.flush();
    expect([...github.checkRuns.values()].map((r) => [r.name, r.conclusion])).toEqual([
      ["ci", "cancelled"],
      ["ci / lint", "timed_out"],
      ["ci / build", "cancelled"],
      ["ci / test", "skipped"],
    ]);
  });

  it("shows retried steps as one check with their attempts", async () => {
    const { github, reporter, sim } = setup();
    sim.start();
    sim.node("lint", { type: "Retry", phase: "Running" });
    sim.node("lint(0)", {
      id: "ci-abcde-lint-0",
      parent: "ci-abcde-lint",
      phase: "Failed",
      message: "Error (exit code 1)",
    });
    sim.log("lint", "first attempt failed", "ci-abcde-lint-0");
    sim.node("lint(1)", { id: "ci-abcde-lint-1", parent: "ci-abcde-lint", phase: "Succeeded" });
    sim.log("lint", "second attempt passed", "ci-abcde-lint-1");
    sim.node("lint", { type: "Retry", phase: "Succeeded" });
    sim.finish("Succeeded");
    await reporter.flush();
    expect([...github.checkRuns.values()].map((r) => r.name)).toEqual(["ci", "ci / lint"]);
    const out = github.byName("ci / lint")!.output!;
    expect(out.summary).toContain("### Attempts");
    expect(out.text).toContain("second attempt passed");
    expect(out.text).not.toContain("first attempt failed");
  });
});

describe("the workflow's check while it runs", () => {
  it("refreshes its table at most once per interval as steps finish", async () => {
    const { github, reporter, sim, clock } = setup({
      checks: "workflow",
      limits: { refreshIntervalMs: 30_000 },
    });
    sim.start();
    sim.node("lint", { phase: "Running" });
    sim.node("build", { phase: "Running" });
    await clock.sleep(1000);
    sim.node("lint", { phase: "Succeeded" });
    sim.node("build", { phase: "Succeeded" });
    await clock.sleep(31_000);
    await reporter.flush();
    expect(github.calls.map((c) => c.method)).toEqual(["createCheckRun", "updateCheckRun"]);
    expect(github.byName("ci")!.output!.title).toBe("🔄 ci is running (2 of 2 steps done)");
    sim.node("test", { phase: "Running" });
    sim.node("test", { phase: "Succeeded" });
    sim.finish("Succeeded");
    await reporter.flush();
    expect(github.calls).toHaveLength(3);
    expect(github.byName("ci")).toMatchObject({ status: "completed", conclusion: "success" });
  });
});

describe("the reporter attached to a run", () => {
  it("gives a [skip ci] pipeline a neutral check and a pipeline that cannot compile a failed one", async () => {
    const { github, reporter } = setup();
    reporter.onEvent({ type: "skipped", pipeline: "other", reason: "not on push" });
    reporter.onEvent({
      type: "skipped",
      pipeline: "ci",
      reason: "the head commit says [skip ci]",
      skipCi: "[skip ci]",
    });
    reporter.onEvent({
      type: "rejected",
      stage: "compile",
      pipeline: "broken",
      error: new SkiffError("SKF-SPEC-032", "workflow template missing not found", {
        position: { file: `${WORKSPACE}/.skiff/broken.yaml`, line: 7 },
      }),
    });
    reporter.onEvent({
      type: "rejected",
      stage: "select",
      pipeline: "bad.yaml",
      error: new SkiffError("SKF-PIPE-001", "x"),
    });
    await reporter.finish();
    expect([...github.checkRuns.values()].map((r) => [r.name, r.conclusion, r.output?.title])).toEqual([
      ["ci", "neutral", "Skipped: the head commit says [skip ci]"],
      ["broken", "failure", "Rejected: SKF-SPEC-032 workflow template missing not found"],
    ]);
    expect(github.byName("broken")!.output!.summary).toContain("| `SKF-SPEC-032` | .skiff/broken.yaml:7 |");
  });

  it("follows each workflow's controller events and, finished after a fallback, writes workflow commands", async () => {
    const commands: string[] = [];
    const open: boolean[] = [];
    const { reporter, clock } = setup({
      checks: "none",
      writeCommand: (line) => commands.push(line),
      onOpenChecksChanged: (_open, finished) => open.push(finished),
    });
    const compiled = compilePipeline(CI_TEXT);
    const sim = new WorkflowSim(
      compiled,
      (event) => reporter.onEvent({ type: "controller", index: 0, pipeline: "ci", event }),
      clock,
    );
    reporter.onEvent({ type: "workflow-starting", index: 0, pipeline: "ci", compiled });
    await runFailing(sim, clock);
    await reporter.finish();
    expect(reporter.fellBack).toBe(true);
    expect(commands[0]).toMatch(/^::error file=\.skiff\/ci\.yaml,line=\d+/);
    expect(commands.some((c) => c.startsWith("::warning file=src/app.ts,line=3"))).toBe(true);
    expect(open).toEqual([]);
  });
});
