import { execFileSync } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "../../../src/testing/fake-github.js";
import { ACTION_POST, HEAD_SHA, openChecks, ROOT, runAction, SHA, startAction, stateEnv } from "./harness.js";

let fake: FakeGitHub;

beforeAll(async () => {
  execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "ignore" });
  fake = await startFakeGitHub({ repository: "acme/app", tokens: ["ghs_t0kenvalue123"] });
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  expect(fake.violations).toEqual([]);
  fake.checkRuns.clear();
  fake.requests.length = 0;
});

const CI = `kind: Pipeline
metadata:
  name: ci
on: [push, pull_request]
tasks:
  hello:
    run: echo "hello from {{workflow.parameters.git-sha}} on {{workflow.parameters.git-branch}}"
  check:
    needs: [hello]
    run: echo checked
`;

const FAILING = `kind: Pipeline
metadata:
  name: broken
on: [push]
tasks:
  compile:
    run: |
      echo "src/app.ts:3:7: error: cannot find name 'x'"
      echo "using token ghs_t0kenvalue123 and secret hunter2-secret"
      exit 3
`;

const pushPayload = (message = "Fix the build", files = ["src/app.ts"]) => ({
  ref: "refs/heads/main",
  after: SHA,
  head_commit: { id: SHA, message },
  commits: [{ id: SHA, message, added: [], modified: files, removed: [] }],
  sender: { login: "octocat" },
});

describe("the GitHub Action (dist/action.js)", () => {
  it("runs the pipelines a push selects and reports every step as a check run", async () => {
    const run = await runAction({
      fake,
      files: { ".skiff/ci.yaml": CI },
      event: "push",
      payload: pushPayload(),
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.outputs.phase).toBe("Succeeded");
    expect(JSON.parse(run.outputs.workflows!)).toEqual([
      expect.objectContaining({ pipeline: "ci", phase: "Succeeded", file: ".skiff/ci.yaml" }),
    ]);
    const runs = [...fake.checkRuns.values()].map((r) => [r.name, r.head_sha, r.status, r.conclusion]);
    expect(runs).toEqual([
      ["ci", SHA, "completed", "success"],
      ["ci / hello", SHA, "completed", "success"],
      ["ci / check", SHA, "completed", "success"],
    ]);
    expect(fake.checkRunByName("ci / hello")!.output.text).toContain(`hello from ${SHA} on main`);
    expect(fake.checkRunByName("ci")!.output.text).toContain("```mermaid");
    expect(run.stdout).toContain(`[hello] hello from ${SHA} on main`);
    expect(run.stdout).toContain("::group::ci (.skiff/ci.yaml)");
    expect(run.summary).toContain("## Skiff: ✅ 1 pipeline succeeded");
    expect(run.summary).toContain("| ✅ | hello | Succeeded |");
  });

  const prPayload = (action: string, fork = false) => ({
    action,
    number: 7,
    pull_request: {
      number: 7,
      head: { sha: HEAD_SHA, ref: "feature/login", repo: { full_name: fork ? "someone/app" : "acme/app" } },
      base: { ref: "main", repo: { full_name: "acme/app" } },
    },
    sender: { login: "contributor" },
  });

  const prPipelines = {
    ".skiff/ci.yaml": CI,
    ".skiff/docs.yaml": `kind: Pipeline
metadata:
  name: docs
on:
  events: [pull_request]
  paths: ["docs/**"]
tasks:
  build-docs:
    run: echo docs
`,
    ".skiff/pr-info.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: pr-info-
  annotations:
    skiff.dev/on-event: "[pull_request]"
    skiff.dev/on-target-branch: "main"
spec:
  entrypoint: show
  arguments:
    parameters:
      - name: git-pull-request
      - name: git-branch
  templates:
    - name: show
      script:
        image: alpine:3
        command: [sh]
        source: echo "PR {{workflow.parameters.git-pull-request}} from {{workflow.parameters.git-branch}}"
`,
  };

  it.each(["opened", "synchronize"])(
    "runs on pull_request %s, reporting on the head commit and filtering on the changed files",
    async (action) => {
      fake.pullRequests.set(7, {
        number: 7,
        headSha: HEAD_SHA,
        headRef: "feature/login",
        baseRef: "main",
        files: ["src/login.ts"],
      });
      fake.commits.set(HEAD_SHA, "Add login");
      const run = await runAction({
        fake,
        files: prPipelines,
        event: "pull_request",
        payload: prPayload(action),
        ref: "refs/pull/7/merge",
        env: { GITHUB_HEAD_REF: "feature/login", GITHUB_BASE_REF: "main" },
      });
      expect(run.code).toBe(0);
      expect(JSON.parse(run.outputs.workflows!).map((w: { pipeline: string }) => w.pipeline)).toEqual([
        "ci",
        "pr-info",
      ]);
      expect(new Set([...fake.checkRuns.values()].map((r) => r.head_sha))).toEqual(new Set([HEAD_SHA]));
      expect(fake.checkRunByName("pr-info / pr-info")).toBeUndefined();
      const info = [...fake.checkRuns.values()].find((r) => r.name.startsWith("pr-info / "))!;
      expect(info.output.text).toContain("PR 7 from feature/login");
      expect(fake.checkRunByName("docs")).toBeUndefined();
      expect(run.summary).toContain("| ⏭️ | docs | | not run | | no changed file matches docs/** |");
    },
  );

  it("runs a pipeline whose paths match the pull request's files", async () => {
    fake.pullRequests.set(7, {
      number: 7,
      headSha: HEAD_SHA,
      headRef: "feature/login",
      baseRef: "main",
      files: ["docs/index.md"],
    });
    fake.commits.set(HEAD_SHA, "Document login");
    const run = await runAction({
      fake,
      files: prPipelines,
      event: "pull_request",
      payload: prPayload("synchronize"),
    });
    expect(run.code).toBe(0);
    expect(fake.checkRunByName("docs / build-docs")?.conclusion).toBe("success");
  });

  it("passes workflow_dispatch inputs as parameters", async () => {
    const run = await runAction({
      fake,
      files: {
        ".skiff/deploy.yaml": `kind: Pipeline
metadata:
  name: deploy
on: [workflow_dispatch]
params:
  environment: staging
  replicas: "1"
tasks:
  deploy:
    run: echo "deploying to {{workflow.parameters.environment}} x{{workflow.parameters.replicas}}"
`,
        ".skiff/ci.yaml": CI,
      },
      event: "workflow_dispatch",
      payload: { inputs: { environment: "production" }, ref: "refs/heads/main" },
      inputs: { parameters: "replicas=3" },
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.outputs.workflows!).map((w: { pipeline: string }) => w.pipeline)).toEqual([
      "deploy",
    ]);
    expect(fake.checkRunByName("deploy / deploy")!.output.text).toContain("deploying to production x3");
    expect(fake.checkRunByName("ci")).toBeUndefined();
  });

  it("runs /retest comments on the pull request's head commit, and ignores other comments", async () => {
    fake.pullRequests.set(9, {
      number: 9,
      headSha: HEAD_SHA,
      headRef: "fix",
      baseRef: "main",
      files: ["a.ts"],
    });
    const files = {
      ".skiff/retest.yaml": `kind: Pipeline
metadata:
  name: retest
on:
  comment: "^/retest"
tasks:
  again:
    run: echo again
`,
      ".skiff/ci.yaml": CI,
    };
    const payload = (body: string) => ({
      action: "created",
      issue: { number: 9, pull_request: { url: "https://api.github.com/repos/acme/app/pulls/9" } },
      comment: { body },
    });
    const run = await runAction({ fake, files, event: "issue_comment", payload: payload("/retest") });
    expect(run.code).toBe(0);
    expect(fake.checkRunByName("retest / again")).toMatchObject({
      head_sha: HEAD_SHA,
      conclusion: "success",
    });
    expect(fake.checkRunByName("ci")).toBeUndefined();
    fake.checkRuns.clear();
    const other = await runAction({ fake, files, event: "issue_comment", payload: payload("LGTM") });
    expect(other.code).toBe(0);
    expect(other.outputs.phase).toBe("Skipped");
    expect(fake.checkRuns.size).toBe(0);
  });

  it("skips pipelines whose target branch does not match", async () => {
    const run = await runAction({
      fake,
      files: {
        ".skiff/release.yaml": `kind: Pipeline
metadata:
  name: release
on:
  events: [push]
  branches: ["release/*"]
tasks:
  publish:
    run: echo publish
`,
      },
      event: "push",
      ref: "refs/heads/main",
      payload: pushPayload(),
    });
    expect(run.code).toBe(0);
    expect(run.outputs.phase).toBe("Skipped");
    expect(fake.checkRuns.size).toBe(0);
    expect(run.stdout).toContain("Not running release: target branch main does not match release/*");
  });

  it("skips everything on [skip ci] with a neutral check saying so", async () => {
    const run = await runAction({
      fake,
      files: { ".skiff/ci.yaml": CI },
      event: "push",
      payload: pushPayload("docs: typo [skip ci]"),
    });
    expect(run.code).toBe(0);
    expect(run.outputs.phase).toBe("Skipped");
    expect([...fake.checkRuns.values()]).toEqual([
      expect.objectContaining({
        name: "ci",
        status: "completed",
        conclusion: "neutral",
        output: expect.objectContaining({ title: "Skipped: the head commit says [skip ci]" }),
      }),
    ]);
  });

  it("falls back to the job summary with one warning on a fork pull request (403 on checks)", async () => {
    fake.pullRequests.set(7, {
      number: 7,
      headSha: HEAD_SHA,
      headRef: "feature/login",
      baseRef: "main",
      files: ["x"],
    });
    fake.commits.set(HEAD_SHA, "From a fork");
    fake.script({ operation: "checks/create", status: 403, times: Infinity });
    try {
      const run = await runAction({
        fake,
        files: { ".skiff/ci.yaml": CI },
        event: "pull_request",
        payload: prPayload("opened", true),
      });
      expect(run.code).toBe(0);
      expect(run.outputs.phase).toBe("Succeeded");
      expect(run.stdout.match(/^::warning::/gm)).toHaveLength(1);
      expect(run.stdout).toContain("SKF-GH-001 GitHub answered 403");
      expect(run.summary).toContain("Check runs could not be written");
      expect(run.summary).toContain("| ✅ | hello | Succeeded |");
      expect(fake.requests.filter((r) => r.operation === "checks/create").length).toBeLessThanOrEqual(2);
    } finally {
      fake.clearScripts();
    }
  });

  it("waits out rate limits (Retry-After) and secondary limits, then reports everything", async () => {
    fake.script({ operation: "checks/create", status: 429, headers: { "retry-after": "1" } });
    fake.script({
      operation: "checks/update",
      status: 403,
      message: "You have exceeded a secondary rate limit",
      headers: { "retry-after": "1" },
    });
    const run = await runAction({
      fake,
      files: { ".skiff/ci.yaml": CI },
      event: "push",
      payload: pushPayload(),
    });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain("::warning::");
    expect([...fake.checkRuns.values()].map((r) => r.conclusion)).toEqual(["success", "success", "success"]);
    expect(fake.requests.filter((r) => r.status === 429 || r.status === 403)).toHaveLength(2);
  });

  it("fails the job on a failing step, annotating its line and the log's file:line, secrets masked", async () => {
    const run = await runAction({
      fake,
      files: { ".skiff/broken.yaml": FAILING },
      event: "push",
      payload: pushPayload(),
      inputs: { secrets: "DEPLOY_KEY=hunter2-secret" },
    });
    expect(run.code).toBe(1);
    expect(run.outputs.phase).toBe("Failed");
    expect(run.stdout).toContain("::add-mask::ghs_t0kenvalue123");
    expect(run.stdout).toContain("::add-mask::hunter2-secret");
    expect(run.stdout).toMatch(/::error::SKF-GH-005 1 of 1 pipelines failed: broken \(Failed\)/);
    const compile = fake.checkRunByName("broken / compile")!;
    expect(compile.conclusion).toBe("failure");
    expect(compile.annotations).toEqual([
      expect.objectContaining({ path: ".skiff/broken.yaml", start_line: 6, annotation_level: "failure" }),
      expect.objectContaining({
        path: "src/app.ts",
        start_line: 3,
        start_column: 7,
        annotation_level: "failure",
        message: "cannot find name 'x'",
      }),
    ]);
    expect(compile.output.text).toContain("using token *** and secret ***");
    const sent = JSON.stringify(fake.requests.map((r) => r.body));
    expect(sent).not.toContain("ghs_t0kenvalue123");
    expect(sent).not.toContain("hunter2-secret");
    expect(run.summary).not.toContain("hunter2-secret");
  });

  it("rejects an invalid pipeline with an annotation at its line", async () => {
    const run = await runAction({
      fake,
      files: {
        ".skiff/bad.yaml":
          "kind: Pipeline\nmetadata:\n  name: bad\ntasks:\n  a:\n    run: x\n    needz: [b]\n",
      },
      event: "push",
      payload: pushPayload(),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "::error title=SKF-PIPE-002,file=.skiff/bad.yaml,line=7,col=5::SKF-PIPE-002 tasks.a has an unknown field needz",
    );
  });

  it("fails the check of a pipeline that cannot compile, naming the problem and its line", async () => {
    const run = await runAction({
      fake,
      files: {
        ".skiff/bad-ref.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: bad-ref
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - name: a
            template: missing
`,
      },
      event: "push",
      payload: pushPayload(),
    });
    expect(run.code).toBe(1);
    const check = fake.checkRunByName("bad-ref")!;
    expect(check).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(check.output.title).toMatch(/^Rejected: SKF-/);
    expect(check.output.summary).toContain(".skiff/bad-ref.yaml:");
    expect(run.stdout).toMatch(/::error title=SKF-[A-Z]+-\d+,file=.skiff\/bad-ref.yaml,line=\d+/);
  });

  it("closes checks left open when the job is killed (post step)", async () => {
    const files = {
      ".skiff/slow.yaml": "kind: Pipeline\nmetadata:\n  name: slow\ntasks:\n  wait:\n    run: sleep 15\n",
    };
    const { child, done, env } = startAction({ fake, files, event: "push", payload: pushPayload() });
    const deadline = Date.now() + 30_000;
    while ((openChecks(env)?.length ?? 0) < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(fake.checkRunByName("slow / wait")?.status).toBe("in_progress");
    expect(openChecks(env)?.map((c) => c.name)).toEqual(["slow", "slow / wait"]);
    child.kill("SIGKILL");
    const killed = await done;
    expect(killed.code).toBeNull();
    const post = await runAction({
      fake,
      files: {},
      event: "push",
      payload: pushPayload(),
      script: ACTION_POST,
      env: stateEnv(killed),
    });
    expect(post.code).toBe(0);
    expect(post.stdout).toContain("Completed 2 check runs left open as cancelled");
    expect([...fake.checkRuns.values()].map((r) => [r.name, r.conclusion])).toEqual([
      ["slow", "cancelled"],
      ["slow / wait", "cancelled"],
    ]);
  });

  it("survives GitHub failing mid-run: retries 5xx, falls back once, and the post step closes what stayed open", async () => {
    fake.script({ operation: "checks/update", status: 503, times: Infinity });
    let run;
    try {
      run = await runAction({ fake, files: { ".skiff/ci.yaml": CI }, event: "push", payload: pushPayload() });
    } finally {
      fake.clearScripts();
    }
    expect(run.code).toBe(0);
    expect(run.outputs.phase).toBe("Succeeded");
    expect(run.stdout.match(/^::warning::/gm)).toHaveLength(1);
    expect(run.stdout).toContain("SKF-GH-002 GitHub answered 503");
    // Four attempts of the first update (1 s, 2 s, 4 s apart), then no more requests.
    expect(fake.requests.filter((r) => r.status === 503)).toHaveLength(4);
    // Steps that end within seconds are created completed; the workflow's own check lost its last update.
    expect(fake.checkRunByName("ci")!.status).toBe("in_progress");
    const post = await runAction({
      fake,
      files: {},
      event: "push",
      payload: pushPayload(),
      script: ACTION_POST,
      env: stateEnv(run),
    });
    expect(post.code).toBe(0);
    // The post step sends the results GitHub did not take: the pipeline succeeded, so every check did.
    expect([...fake.checkRuns.values()].map((r) => [r.status, r.conclusion])).toEqual(
      [...fake.checkRuns.values()].map(() => ["completed", "success"]),
    );
  });

  it("runs 200 steps within GitHub's request limits, the steps never waiting on the API", async () => {
    const wide = `kind: Pipeline\nmetadata:\n  name: wide\ntasks:\n${Array.from(
      { length: 200 },
      (_, i) => `  s${i}:\n    run: "true"\n`,
    ).join("")}`;
    const slow = await startFakeGitHub({
      repository: "acme/app",
      writesPerMinute: 500,
      responseDelayMs: 100,
    });
    try {
      const run = await runAction({
        fake: slow,
        files: { ".skiff/wide.yaml": wide },
        event: "push",
        payload: pushPayload(),
        // The per-minute pacing is proven with a fake clock in the unit tests; here it would take minutes.
        env: { SKIFF_GITHUB_WRITES_PER_MINUTE: "500" },
      });
      expect(run.code).toBe(0);
      expect(slow.violations).toEqual([]);
      expect(slow.checkRuns.size).toBe(201);
      expect([...slow.checkRuns.values()].every((r) => r.conclusion === "success")).toBe(true);
      const writes = slow.requests.filter((r) => r.method !== "GET");
      expect(writes.length).toBeLessThanOrEqual(2 * 201);
      expect(writes.length).toBeLessThanOrEqual(500);
      expect(slow.requests.filter((r) => r.status >= 400)).toEqual([]);
      // Each request takes 100 ms, longer than a step: had steps waited on GitHub, every request would have
      // been answered before the workflow finished. Reporting instead goes on after it.
      const finishedAt = Date.parse(slow.checkRunByName("wide")!.completed_at!);
      const before = slow.requests.filter((r) => r.at < finishedAt).length;
      expect(before / slow.requests.length).toBeLessThan(0.8);
    } finally {
      await slow.close();
    }
  });
});
