import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SystemClock } from "../../../runtime/interfaces/clock.js";
import { FakeClock } from "../../../runtime/testing/fake-clock.js";
import type { SkiffError } from "../../../runtime/errors/index.js";
import { finaliseOpenChecks } from "../../../src/action/finalise.js";
import type { OpenChecksFile } from "../../../src/action/state.js";
import { createOctokitClient } from "../../../src/reporters/github-checks/octokit.js";
import { createGitHubChecksReporter, type OpenCheck } from "../../../src/reporters/github-checks/reporter.js";
import { startFakeGitHub, type FakeGitHub } from "../../../src/testing/fake-github.js";
import { CI_TEXT, compilePipeline, WORKSPACE, WorkflowSim } from "../../unit/reporters/github/sim.js";

const TOKEN = "ghs_f4ultt0ken";
const SHA = "0123456789abcdef0123456789abcdef01234567";
let fake: FakeGitHub;
let dir: string;

beforeAll(async () => {
  fake = await startFakeGitHub({ repository: "acme/app", tokens: [TOKEN] });
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.clearScripts();
  expect(fake.violations).toEqual([]);
  fake.checkRuns.clear();
  fake.requests.length = 0;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const client = () =>
  createOctokitClient({ token: TOKEN, baseUrl: fake.url, repository: "acme/app", userAgent: "skiff-test" });

/** A reporter against the fake with millisecond backoff, and what it hands the post step. */
function reporterOnFake() {
  const warnings: SkiffError[] = [];
  let handed: { open: OpenCheck[]; finished: boolean } | undefined;
  const reporter = createGitHubChecksReporter({
    client: client(),
    clock: new SystemClock(),
    headSha: SHA,
    checks: "steps",
    workspace: WORKSPACE,
    secrets: [TOKEN],
    limits: { baseBackoffMs: 1 },
    onFallback: (e) => warnings.push(e),
    onOpenChecksChanged: (open, finished) => (handed = { open: [...open], finished }),
  });
  const compiled = compilePipeline(CI_TEXT);
  const sim = new WorkflowSim(compiled, reporter.listener(compiled, "ci"), new FakeClock());
  return { reporter, sim, warnings, handed: () => handed };
}

/** Runs the post step against the fake with the given open-checks file. */
async function postStep(state: OpenChecksFile) {
  dir = mkdtempSync(join(tmpdir(), "skiff-post-"));
  const file = join(dir, "open-checks.json");
  const summary = join(dir, "summary.md");
  writeFileSync(file, JSON.stringify(state));
  writeFileSync(summary, "");
  const clock = new FakeClock({ start: Date.UTC(2026, 0, 1), autoAdvance: true });
  const closed = await finaliseOpenChecks({
    env: { "STATE_open-checks-file": file, GITHUB_STEP_SUMMARY: summary },
    client: client(),
    clock,
  });
  return { closed, summary: readFileSync(summary, "utf8"), clock };
}

describe("reporting under GitHub faults", () => {
  it("concludes a failed workflow's checks as failed when GitHub answered 5xx to their last update", async () => {
    const { reporter, sim, handed } = reporterOnFake();
    sim.start();
    sim.node("lint", { phase: "Running" });
    await reporter.flush();
    expect(fake.checkRunByName("ci / lint")?.status).toBe("in_progress");
    fake.script({ operation: "checks/update", status: 502, times: Infinity });
    sim.node("lint", { phase: "Failed", message: "Error (exit code 1)" });
    sim.finish("Failed", "child 'ci-abcde-lint' failed");
    await reporter.finish();
    fake.clearScripts();
    expect(handed()?.finished).toBe(true);
    expect(handed()?.open.map((c) => [c.name, c.result?.conclusion])).toEqual([
      ["ci", "failure"],
      ["ci / lint", "failure"],
    ]);

    const post = await postStep(handed()!);
    expect(post.closed).toBe(2);
    expect([...fake.checkRuns.values()].map((r) => [r.name, r.status, r.conclusion])).toEqual([
      ["ci", "completed", "failure"],
      ["ci / lint", "completed", "failure"],
    ]);
    expect(fake.checkRunByName("ci")?.output.summary).not.toContain(TOKEN);
  });

  it("retries the post step's updates through 5xx and rate limits instead of giving up", async () => {
    const { id } = await client().createCheckRun({ name: "ci", head_sha: SHA, status: "in_progress" });
    fake.script({ operation: "checks/update", status: 503, times: 3 });
    fake.script({
      operation: "checks/update",
      status: 403,
      message: "You have exceeded a secondary rate limit.",
      headers: { "retry-after": "30" },
    });
    const post = await postStep({
      open: [
        {
          id,
          name: "ci",
          result: {
            conclusion: "success",
            completed_at: "2026-01-01T00:00:00Z",
            title: "Succeeded",
            summary: "ok",
          },
        },
      ],
      finished: true,
    });
    expect(post.closed).toBe(1);
    expect(fake.checkRunByName("ci")).toMatchObject({ status: "completed", conclusion: "success" });
    expect(fake.requests.filter((r) => r.operation === "checks/update").map((r) => r.status)).toEqual([
      503, 503, 503, 403, 200,
    ]);
    expect(post.summary).toBe("");
  });

  it("stops retrying when the job's time runs out and reports the results in the job summary", async () => {
    const { id } = await client().createCheckRun({ name: "ci / lint", head_sha: SHA, status: "in_progress" });
    fake.script({ operation: "checks/update", status: 500, times: Infinity });
    const start = Date.UTC(2026, 0, 1);
    const post = await postStep({
      open: [
        {
          id,
          name: "ci / lint",
          result: {
            conclusion: "failure",
            completed_at: "2026-01-01T00:00:00Z",
            title: "Failed",
            summary: "exit 1",
          },
        },
      ],
      finished: true,
    });
    expect(post.closed).toBe(0);
    expect(post.clock.now() - start).toBeLessThanOrEqual(5 * 60_000);
    expect(fake.requests.filter((r) => r.status === 500).length).toBeGreaterThan(4);
    expect(post.summary).toContain("SKF-GH-002");
    expect(post.summary).toMatch(/\| ci \/ lint \| failure \| Failed \|/);
  });

  it("reports an exhausted rate limit with its own code, not the fork message", async () => {
    const { reporter, sim, warnings } = reporterOnFake();
    fake.script({
      status: 403,
      message: "API rate limit exceeded for installation.",
      headers: {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
      },
      times: Infinity,
    });
    sim.start();
    await reporter.flush();
    expect(warnings.map((w) => w.code)).toEqual(["SKF-GH-002"]);
    expect(`${warnings[0]!.message} ${warnings[0]!.hint ?? ""}`).not.toMatch(/fork|read-only/);
    expect(warnings[0]!.message).toContain("rate limit");
  });
});
