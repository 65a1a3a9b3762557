import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../runtime/testing/fake-clock.js";
import { GitHubRequestError } from "../../../src/reporters/github-checks/client.js";
import { createOctokitClient } from "../../../src/reporters/github-checks/octokit.js";
import { createGitHubChecksReporter } from "../../../src/reporters/github-checks/reporter.js";
import { startFakeGitHub, type RateLimitSimulation } from "../../../src/testing/fake-github.js";
import { compilePipeline, WORKSPACE, WorkflowSim } from "../../unit/reporters/github/sim.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

async function withFake<T>(
  rateLimits: RateLimitSimulation,
  fn: (f: Awaited<ReturnType<typeof startFakeGitHub>>) => Promise<T>,
): Promise<T> {
  const fake = await startFakeGitHub({ repository: "acme/app", rateLimits });
  try {
    return await fn(fake);
  } finally {
    expect(fake.violations).toEqual([]);
    await fake.close();
  }
}

const client = (url: string) => createOctokitClient({ token: "t", baseUrl: url, repository: "acme/app" });

describe("fake GitHub's rate-limit simulation", () => {
  it("refuses writes over the secondary limit as GitHub does, on the simulation's clock", async () => {
    const clock = new FakeClock({ start: Date.UTC(2026, 0, 1) });
    await withFake({ clock, writesPerMinute: 3 }, async (fake) => {
      const gh = client(fake.url);
      for (let i = 0; i < 3; i++) {
        await gh.createCheckRun({ name: `c${i}`, head_sha: SHA });
        clock.advance(10_000);
      }
      const refused = (await gh
        .createCheckRun({ name: "c3", head_sha: SHA })
        .catch((e: unknown) => e)) as GitHubRequestError;
      expect(refused).toBeInstanceOf(GitHubRequestError);
      // The first write leaves the window 60 s after it was made: 30 s from now.
      expect(refused).toMatchObject({ status: 403, rateLimited: true, retryAfterMs: 30_000 });
      expect(refused.message).toMatch(/secondary rate limit/);
      // Reads are not content-creating.
      fake.pullRequests.set(1, { number: 1, headSha: SHA, headRef: "f", baseRef: "main", files: [] });
      await gh.getPullRequest(1);
      clock.advance(30_000);
      await gh.createCheckRun({ name: "c3", head_sha: SHA });
      expect(fake.counters()).toEqual({
        requests: 6,
        writes: 4,
        creates: 4,
        updates: 0,
        rateLimited: 1,
        lastRequestAt: clock.now(),
      });
      expect(fake.maxWritesPerMinute()).toBe(3);
    });
  });

  it("answers 429 when asked, and reports the primary limit in headers until it is spent", async () => {
    const clock = new FakeClock({ start: Date.UTC(2026, 0, 1) });
    await withFake({ clock, writesPerHour: 1, requestsPerHour: 3, status: 429 }, async (fake) => {
      const gh = client(fake.url);
      const first = await gh.createCheckRun({ name: "a", head_sha: SHA });
      expect(first.rateLimit).toEqual({ limit: 3, remaining: 2, resetAt: clock.now() + 3_600_000 });
      await expect(gh.createCheckRun({ name: "b", head_sha: SHA })).rejects.toMatchObject({
        status: 429,
        rateLimited: true,
        retryAfterMs: 3_600_000,
      });
      await gh.updateCheckRun(first.id, { status: "in_progress" }).catch(() => undefined);
      fake.commits.set(SHA, "m");
      await gh.getCommitMessage(SHA);
      await gh.getCommitMessage(SHA);
      await expect(gh.getCommitMessage(SHA)).rejects.toMatchObject({ status: 403, rateLimited: true });
      expect(fake.counters().rateLimited).toBe(3);
    });
  });

  it("a 1,000-item loop reports within the limits, never refused, every request valid", async () => {
    const clock = new FakeClock({ start: Date.UTC(2026, 0, 1), autoAdvance: true });
    await withFake(
      { clock, writesPerMinute: 80, writesPerHour: 500, requestsPerHour: 1000 },
      async (fake) => {
        const reporter = createGitHubChecksReporter({
          client: client(fake.url),
          clock,
          headSha: SHA,
          checks: "steps",
          workspace: WORKSPACE,
        });
        const compiled = compilePipeline(
          "kind: Pipeline\nmetadata: {name: loop}\ntasks:\n  fan: {run: echo}\n  lint: {run: echo}\n",
          "loop-abcde",
        );
        const sim = new WorkflowSim(compiled, reporter.listener(compiled, "loop"), clock);
        sim.start();
        sim.node("fan", { type: "TaskGroup", phase: "Running", templateName: "fan" });
        const item = (i: number, phase: "Running" | "Succeeded") =>
          sim.node(`fan(${i}:${i})`, {
            id: `fan-${i}`,
            parent: "loop-abcde-fan",
            templateName: "fan",
            phase,
          });
        for (let i = 0; i < 1000; i++) item(i, "Running");
        sim.node("lint", { phase: "Running" });
        await clock.sleep(1000);
        for (let i = 0; i < 1000; i++) item(i, "Succeeded");
        sim.node("fan", { type: "TaskGroup", phase: "Succeeded" });
        sim.node("lint", { phase: "Succeeded" });
        const end = clock.now();
        sim.finish("Succeeded");
        await reporter.flush();
        expect(fake.checkRuns.size).toBe(3);
        expect([...fake.checkRuns.values()].every((r) => r.status === "completed")).toBe(true);
        const counters = fake.counters();
        expect(counters).toMatchObject({ writes: 4, rateLimited: 0 });
        // Nothing waited once the workflow ended: the last request went out at once.
        expect(counters.lastRequestAt).toBe(end);
      },
    );
  });
});
