import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../../runtime/testing/fake-clock.js";
import { FakeExecutor } from "../../../runtime/testing/fake-executor.js";
import { defaultConfig, type SkiffConfig } from "../../../src/config/index.js";
import type { GitContext } from "../../../src/pipelines/index.js";
import type { RunEvent, RunReporter } from "../../../src/reporters/events.js";
import { GitHubRequestError } from "../../../src/reporters/github-checks/client.js";
import { createGitHubChecksReporter } from "../../../src/reporters/github-checks/reporter.js";
import { createJobSummaryReporter } from "../../../src/reporters/job-summary/reporter.js";
import { runSelection } from "../../../src/run/pipeline.js";
import { selectForEvent, selectPaths } from "../../../src/run/select.js";
import { MemoryGitHub } from "../../../src/testing/memory-github.js";

const workflow = (
  name: string,
  body = "steps: [[{name: main, template: work}]]",
) => `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: ${name}
spec:
  entrypoint: main
  arguments:
    parameters: [{name: message, value: default}]
  templates:
    - name: main
      ${body}
      outputs:
        parameters: [{name: said, globalName: said, value: "{{workflow.parameters.message}}"}]
    - name: work
      container: {image: alpine, command: [echo, hi]}
`;

const folders: string[] = [];
afterAll(() => {
  for (const d of folders) rmSync(d, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "skiff-pipeline-"));
  folders.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** A config whose runs use the fake executor (the host executor the factory makes is replaced). */
function fakeRun(dir: string, scripts: Record<string, { exitCode?: number; logs?: string[] }> = {}) {
  const clock = new FakeClock({ start: Date.UTC(2026, 0, 1, 12), autoAdvance: true });
  const executor = new FakeExecutor({ clock });
  for (const [match, script] of Object.entries(scripts)) executor.script(match, script);
  const config: SkiffConfig = {
    ...defaultConfig({}),
    executor: "host",
    host: { sandbox: "none" },
    stateDir: join(dir, "state"),
  };
  return { clock, executor, config, hooks: { clock, workspace: dir, wrapExecutor: () => executor } };
}

/** A reporter that records every event and when it was finished. */
function recorder(): RunReporter & { events: RunEvent[]; finished: number } {
  const r = {
    events: [] as RunEvent[],
    finished: 0,
    onEvent: (e: RunEvent) => void r.events.push(e),
    finish: async () => void r.finished++,
  };
  return r;
}

const summary = (events: RunEvent[]) =>
  events
    .filter((e) => e.type !== "controller")
    .map((e) => `${e.type} ${e.pipeline}${e.type === "rejected" ? ` ${e.stage} ${e.error.code}` : ""}`);

describe("the run pipeline", () => {
  it("compiles, runs and reports the workflows of paths, one after another, with a fake executor", async () => {
    const dir = folder({ "a.yaml": workflow("a"), "b.yaml": workflow("b") });
    const { executor, config, hooks } = fakeRun(dir, { "b[0].main": { exitCode: 1 } });
    const selection = await selectPaths([dir], { parameters: { message: "hello" } });
    expect(selection.runnables.map((r) => [r.name, r.source?.parameters])).toEqual([
      ["a", { message: "hello" }],
      ["b", { message: "hello" }],
    ]);
    const seen = recorder();
    const finished: string[] = [];
    const slow: RunReporter = {
      onEvent: () => undefined,
      finish: () => new Promise<void>((r) => setTimeout(r, 20)).then(() => void finished.push("slow")),
    };
    const fast: RunReporter = { onEvent: () => undefined, finish: async () => void finished.push("fast") };
    const result = await runSelection(selection, {
      config,
      reporters: [seen, slow, fast],
      hooks,
      onError: "continue",
    });
    expect(finished).toEqual(["slow", "fast"]);

    expect(summary(seen.events)).toEqual([
      "workflow-starting a",
      "workflow-completed a",
      "workflow-starting b",
      "workflow-completed b",
    ]);
    const controller = seen.events.filter((e) => e.type === "controller");
    expect(controller.some((e) => e.event.type === "workflow-finished")).toBe(true);
    expect(seen.finished).toBe(1);
    expect(executor.requests.map((r) => r.nodeName)).toEqual(["a[0].main", "b[0].main"]);
    expect(result).toMatchObject({ phase: "Failed", ran: 2, failed: 1, rejected: 0 });
    expect(result.workflows.map((w) => [w.pipeline, w.phase, w.outputs])).toEqual([
      ["a", "Succeeded", { said: "hello" }],
      ["b", "Failed", {}],
    ]);
  });

  it("reports a workflow that cannot compile as rejected and runs the next one (the Action's policy)", async () => {
    const dir = folder({
      "a.yaml": workflow("a", "steps: [[{name: main, templateRef: {name: missing, template: x}}]]"),
      "b.yaml": workflow("b"),
    });
    const { config, hooks } = fakeRun(dir);
    const seen = recorder();
    const result = await runSelection(await selectPaths([dir]), { config, reporters: [seen], hooks });
    expect(summary(seen.events)).toEqual([
      expect.stringMatching(/^rejected a compile SKF-/),
      "workflow-starting b",
      "workflow-completed b",
    ]);
    expect(result).toMatchObject({ phase: "Failed", ran: 1, failed: 0, rejected: 1 });
    expect(result.workflows[0]).toMatchObject({ pipeline: "a", phase: "Error" });
  });

  it("compiles everything before running anything and throws the first problem (the command line's policy)", async () => {
    const dir = folder({
      "a.yaml": workflow("a"),
      "b.yaml": workflow("b", "steps: [[{name: main, templateRef: {name: missing, template: x}}]]"),
    });
    const { executor, config, hooks } = fakeRun(dir);
    const seen = recorder();
    await expect(
      runSelection(await selectPaths([dir]), { config, reporters: [seen], hooks, onError: "stop" }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^SKF-/) });
    expect(seen.events).toEqual([]);
    expect(executor.requests).toEqual([]);
  });

  it("selects pipelines by a Git event's triggers and runs them with the Git context as parameters", async () => {
    const dir = folder({
      ".skiff/ci.yaml": `kind: Pipeline
metadata:
  name: ci
on: [push]
tasks:
  hello:
    run: echo "{{workflow.parameters.git-sha}}"
`,
      ".skiff/pr.yaml": `kind: Pipeline
metadata:
  name: pr
on: [pull_request]
tasks:
  hello:
    run: echo pr
`,
    });
    const ctx: GitContext = {
      event: "push",
      repository: "acme/app",
      sha: "0123456789abcdef0123456789abcdef01234567",
      ref: "refs/heads/main",
      branch: "main",
      targetBranch: "main",
      actor: "octocat",
    };
    const selection = await selectForEvent({ context: ctx, workspace: dir, pipelines: ".skiff" });
    expect(selection.runnables.map((r) => [r.name, r.file])).toEqual([["ci", join(".skiff", "ci.yaml")]]);
    expect(selection.skipped.map((s) => s.pipeline)).toEqual(["pr"]);
    expect(selection.runnables[0]!.compileOptions.parameters).toMatchObject({ "git-sha": ctx.sha });

    const { executor, config, hooks } = fakeRun(dir);
    const seen = recorder();
    const result = await runSelection(selection, { config, reporters: [seen], hooks });
    expect(summary(seen.events)).toEqual(["skipped pr", "workflow-starting ci", "workflow-completed ci"]);
    expect(result).toMatchObject({ phase: "Succeeded", ran: 1 });
    expect(executor.requests).toHaveLength(1);

    const skipped = await selectForEvent({
      context: { ...ctx, headCommitMessage: "docs [skip ci]" },
      workspace: dir,
      pipelines: ".skiff",
    });
    expect(skipped.skipCi).toBe("[skip ci]");
    expect(skipped.runnables).toEqual([]);

    const empty = await selectForEvent({ context: ctx, workspace: folder({}), pipelines: ".skiff" });
    expect(empty.rejected.map((r) => [r.pipeline, r.error.code])).toEqual([[".skiff", "SKF-PIPE-001"]]);
  });

  it("feeds the GitHub checks and job summary reporters as listeners and finishes them in order", async () => {
    const dir = folder({
      "a.yaml": workflow("a"),
      "b.yaml": workflow("b", "steps: [[{name: main, templateRef: {name: missing, template: x}}]]"),
    });
    const { clock, config, hooks } = fakeRun(dir, { "a[0].main": { exitCode: 2 } });
    const github = new MemoryGitHub();
    github.failAlways = { error: new GitHubRequestError(403, "Resource not accessible by integration") };
    const commands: string[] = [];
    const open: boolean[] = [];
    const summaryFile = join(dir, "summary.md");
    const summaryReporter = createJobSummaryReporter({ file: summaryFile, clock, secrets: [] });
    const checks = createGitHubChecksReporter({
      client: github,
      clock,
      headSha: "0123456789abcdef0123456789abcdef01234567",
      checks: "steps",
      workspace: dir,
      onFallback: (e) => summaryReporter.note(`checks fell back: ${e.code}`),
      onOpenChecksChanged: (_open, finished) => open.push(finished),
      writeCommand: (line) => commands.push(line),
    });
    const result = await runSelection(await selectPaths([dir]), {
      config,
      reporters: [checks, summaryReporter],
      hooks,
    });
    expect(result).toMatchObject({ phase: "Failed", ran: 1, rejected: 1 });
    expect(checks.fellBack).toBe(true);
    expect(commands.some((l) => l.startsWith("::error file=a.yaml"))).toBe(true);
    const markdown = readFileSync(summaryFile, "utf8");
    expect(markdown).toContain("checks fell back: SKF-GH-001");
    expect(markdown).toMatch(/\| b \| +\| rejected \|/);
    expect(open).not.toContain(true);
  });
});
