import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../../runtime/testing/fake-clock.js";
import { GitHubRequestError } from "../../../src/reporters/github-checks/client.js";
import { createOctokitClient } from "../../../src/reporters/github-checks/octokit.js";
import { createGitHubChecksReporter } from "../../../src/reporters/github-checks/reporter.js";
import { startFakeGitHub, type FakeGitHub } from "../../../src/testing/fake-github.js";
import { compilePipeline, WORKSPACE, WorkflowSim } from "../../unit/reporters/github/sim.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
let fake: FakeGitHub;

beforeAll(async () => {
  fake = await startFakeGitHub({ repository: "acme/app", tokens: ["t0ken"] });
});
afterAll(async () => {
  await fake.close();
});

const client = () => createOctokitClient({ token: "t0ken", baseUrl: fake.url, repository: "acme/app" });

async function raw(method: string, path: string, body: unknown, token = "t0ken") {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: { authorization: `token ${token}`, "content-type": "application/json", "user-agent": "test" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { message: string } };
}

describe("fake GitHub API", () => {
  it("serves the client's calls within GitHub's OpenAPI description", async () => {
    const before = fake.violations.length;
    const gh = client();
    const { id } = await gh.createCheckRun({ name: "ci", head_sha: SHA, status: "in_progress" });
    await gh.updateCheckRun(id, {
      conclusion: "failure",
      completed_at: "2026-01-01T00:00:00Z",
      output: {
        title: "failed",
        summary: "s",
        annotations: [
          { path: "a.ts", start_line: 1, end_line: 1, annotation_level: "failure", message: "m" },
        ],
      },
    });
    expect(fake.checkRuns.get(id)).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(fake.checkRuns.get(id)!.annotations).toHaveLength(1);
    fake.pullRequests.set(7, {
      number: 7,
      headSha: SHA,
      headRef: "feature",
      baseRef: "main",
      headRepository: "fork/app",
      files: Array.from({ length: 250 }, (_, i) => `src/f${i}.ts`),
    });
    expect(await gh.getPullRequest(7)).toEqual({
      number: 7,
      headSha: SHA,
      headRef: "feature",
      baseRef: "main",
      fork: true,
    });
    const files = await gh.listPullRequestFiles(7);
    expect(files).toHaveLength(250);
    expect(files[249]).toBe("src/f249.ts");
    expect(fake.violations.slice(before)).toEqual([]);
  });

  it("rejects requests that break the description or GitHub's unstated rules", async () => {
    const cases: [unknown, RegExp][] = [
      [{ name: "x" }, /head_sha/],
      [{ name: "x", head_sha: SHA, status: "done" }, /must be equal to one of the allowed values/],
      [{ name: "x", head_sha: SHA, status: "completed" }, /conclusion is required/],
      [{ name: "x", head_sha: "main" }, /not a commit SHA/],
      [
        {
          name: "x",
          head_sha: SHA,
          output: {
            title: "t",
            summary: "s",
            annotations: Array.from({ length: 51 }, () => ({
              path: "a",
              start_line: 1,
              end_line: 1,
              annotation_level: "failure",
              message: "m",
            })),
          },
        },
        /must NOT have more than 50 items/,
      ],
      [
        {
          name: "x",
          head_sha: SHA,
          output: {
            title: "t",
            summary: "s",
            annotations: [
              {
                path: "a",
                start_line: 1,
                end_line: 2,
                start_column: 1,
                annotation_level: "failure",
                message: "m",
              },
            ],
          },
        },
        /columns but spans lines/,
      ],
      [{ name: "x", head_sha: SHA, output: { title: "t", summary: "y".repeat(65_536) } }, /65535/],
    ];
    for (const [body, why] of cases) {
      const before = fake.violations.length;
      const res = await raw("POST", "/repos/acme/app/check-runs", body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(422);
      expect(res.body.message).toMatch(why);
      expect(fake.violations.length).toBe(before + 1);
      fake.violations.pop();
    }
    expect(
      (await raw("POST", "/repos/acme/app/check-runs", { name: "x", head_sha: SHA }, "nope")).status,
    ).toBe(401);
    expect((await raw("PATCH", "/repos/acme/app/check-runs/999999", { status: "in_progress" })).status).toBe(
      404,
    );
    expect((await raw("POST", "/repos/acme/other/check-runs", { name: "x", head_sha: SHA })).status).toBe(
      404,
    );
  });

  it("answers scripted failures, which the client reads as rate limits or refusals", async () => {
    const gh = client();
    fake.script({ operation: "checks/create", status: 403 });
    await expect(gh.createCheckRun({ name: "x", head_sha: SHA })).rejects.toMatchObject({
      status: 403,
      rateLimited: false,
    });
    fake.script({
      operation: "checks/create",
      status: 403,
      message: "You have exceeded a secondary rate limit",
      headers: { "retry-after": "7" },
    });
    const e = (await gh
      .createCheckRun({ name: "x", head_sha: SHA })
      .catch((x: unknown) => x)) as GitHubRequestError;
    expect(e).toBeInstanceOf(GitHubRequestError);
    expect(e).toMatchObject({ status: 403, rateLimited: true, retryAfterMs: 7000 });
    fake.script({ status: 503 });
    await expect(gh.createCheckRun({ name: "x", head_sha: SHA })).rejects.toMatchObject({ status: 503 });
  });

  it("takes a 200-step run within GitHub's request limits, every request valid", async () => {
    const local = await startFakeGitHub({ repository: "acme/app" });
    try {
      const clock = new FakeClock({ start: Date.UTC(2026, 0, 1), autoAdvance: true });
      const reporter = createGitHubChecksReporter({
        client: createOctokitClient({ token: "t", baseUrl: local.url, repository: "acme/app" }),
        clock,
        headSha: SHA,
        checks: "steps",
        workspace: WORKSPACE,
      });
      const text = `kind: Pipeline\nmetadata: {name: wide}\ntasks:\n${Array.from(
        { length: 200 },
        (_, i) => `  s${i}: {run: echo}\n`,
      ).join("")}`;
      const compiled = compilePipeline(text, "wide-abcde");
      const sim = new WorkflowSim(compiled, reporter.listener(compiled, "wide"), clock);
      sim.start();
      for (let i = 0; i < 200; i++) {
        sim.node(`s${i}`, { phase: "Running" });
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1));
        sim.node(`s${i}`, {
          phase: i === 7 ? "Failed" : "Succeeded",
          message: i === 7 ? "Error (exit code 2)" : undefined,
        });
      }
      sim.finish("Failed");
      await reporter.flush();
      expect(local.violations).toEqual([]);
      expect(local.checkRuns.size).toBe(201);
      expect([...local.checkRuns.values()].filter((r) => r.status !== "completed")).toEqual([]);
      expect(local.checkRunByName("wide / s7")).toMatchObject({ conclusion: "failure" });
      expect(local.checkRunByName("wide / s7")!.annotations).toEqual([
        expect.objectContaining({ path: ".skiff/ci.yaml", annotation_level: "failure" }),
      ]);
      expect(local.requests.length).toBeLessThanOrEqual(2 * 201);
      expect(local.requests.length).toBe(reporter.requests);
    } finally {
      await local.close();
    }
  });
});
