import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SkiffError } from "../../../runtime/errors/index.js";
import { matchTriggers, readTriggers } from "../../../src/pipelines/index.js";
import {
  detectProvider,
  gitChangedFiles,
  readCiContext,
  readGitLabContext,
} from "../../../src/pipelines/providers/index.js";

const SHA = "a".repeat(40);
const BASE = "b".repeat(40);

const MR_ENV = {
  GITLAB_CI: "true",
  CI_PIPELINE_SOURCE: "merge_request_event",
  CI_COMMIT_SHA: SHA,
  CI_PROJECT_PATH: "group/project",
  CI_PROJECT_ID: "42",
  CI_PIPELINE_ID: "99",
  CI_MERGE_REQUEST_IID: "7",
  CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: "feature",
  CI_MERGE_REQUEST_TARGET_BRANCH_NAME: "main",
  CI_MERGE_REQUEST_DIFF_BASE_SHA: BASE,
  CI_COMMIT_REF_NAME: "feature",
  CI_COMMIT_MESSAGE: "Fix the parser",
  GITLAB_USER_LOGIN: "ada",
  CI_JOB_URL: "https://gitlab.example.com/group/project/-/jobs/5",
  CI_API_V4_URL: "https://gitlab.example.com/api/v4",
};

describe("GitLab's predefined variables as the Git context", () => {
  it("reads a merge-request pipeline, its changed files from git diff against the base", async () => {
    const calls: string[][] = [];
    const ci = await readGitLabContext(MR_ENV, {
      cwd: "/checkout",
      changedFiles: async (base, head, cwd) => {
        calls.push([base, head, cwd]);
        return ["src/app.ts"];
      },
    });
    expect(calls).toEqual([[BASE, SHA, "/checkout"]]);
    expect(ci.context).toEqual({
      event: "pull_request",
      repository: "group/project",
      sha: SHA,
      ref: "refs/merge-requests/7/head",
      branch: "feature",
      targetBranch: "main",
      pullRequest: 7,
      actor: "ada",
      headCommitMessage: "Fix the parser",
      changedFiles: ["src/app.ts"],
    });
    expect(ci).toMatchObject({
      provider: "gitlab",
      projectId: "42",
      pipelineId: 99,
      apiUrl: "https://gitlab.example.com/api/v4",
      jobUrl: "https://gitlab.example.com/group/project/-/jobs/5",
    });
  });

  it.each([
    ["push", "push"],
    ["merge_request_event", "pull_request"],
    ["schedule", "schedule"],
    ["web", "workflow_dispatch"],
    ["trigger", "workflow_dispatch"],
    ["api", "workflow_dispatch"],
    ["security_orchestration_policy", "security_orchestration_policy"],
  ])("maps CI_PIPELINE_SOURCE=%s onto %s", async (source, event) => {
    const ci = await readGitLabContext(
      { CI_PIPELINE_SOURCE: source, CI_COMMIT_SHA: SHA, CI_COMMIT_BRANCH: "main" },
      { cwd: "/", changedFiles: async () => undefined },
    );
    expect(ci.context.event).toBe(event);
  });

  it("reads a push: the branch, the files since CI_COMMIT_BEFORE_SHA, none for a new branch", async () => {
    const env = {
      CI_PIPELINE_SOURCE: "push",
      CI_COMMIT_SHA: SHA,
      CI_COMMIT_BRANCH: "main",
      CI_COMMIT_BEFORE_SHA: BASE,
    };
    const ci = await readGitLabContext(env, { cwd: "/", changedFiles: async () => ["a.md"] });
    expect(ci.context).toMatchObject({
      ref: "refs/heads/main",
      branch: "main",
      targetBranch: "main",
      changedFiles: ["a.md"],
    });
    const fresh = await readGitLabContext(
      { ...env, CI_COMMIT_BEFORE_SHA: "0".repeat(40) },
      { cwd: "/", changedFiles: async () => ["never"] },
    );
    expect(fresh.context.changedFiles).toBeUndefined();
    expect(fresh.notes.join()).toMatch(/path filters match/);
  });

  it("reads a tag pipeline as refs/tags", async () => {
    const ci = await readGitLabContext(
      {
        CI_PIPELINE_SOURCE: "push",
        CI_COMMIT_SHA: SHA,
        CI_COMMIT_TAG: "v1.2.0",
        CI_COMMIT_REF_NAME: "v1.2.0",
      },
      { cwd: "/", changedFiles: async () => undefined },
    );
    expect(ci.context.ref).toBe("refs/tags/v1.2.0");
  });

  it("refuses a job without GitLab's variables with a coded error naming the variable", async () => {
    const e = await readGitLabContext({ CI_PIPELINE_SOURCE: "push" }, { cwd: "/" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SkiffError);
    expect((e as SkiffError).code).toBe("SKF-CI-002");
    expect((e as SkiffError).message).toBe("CI_COMMIT_SHA is not set");
    const bad = await readGitLabContext({ ...MR_ENV, CI_MERGE_REQUEST_IID: "x" }, { cwd: "/" }).catch(
      (x: unknown) => x,
    );
    expect((bad as SkiffError).message).toMatch(/CI_MERGE_REQUEST_IID is not a number: x/);
  });

  it("detects the provider, and says what to do outside GitLab and Jenkins", async () => {
    expect(detectProvider({ GITLAB_CI: "true" })).toBe("gitlab");
    expect(detectProvider({ JENKINS_URL: "https://ci/" })).toBe("jenkins");
    expect(detectProvider({})).toBeUndefined();
    const e = (await readCiContext("auto", { GITHUB_ACTIONS: "true" }, { cwd: "/" }).catch(
      (x: unknown) => x,
    )) as SkiffError;
    expect(e.code).toBe("SKF-CI-001");
    expect(e.hint).toMatch(/GitHub Action/);
    const forced = await readCiContext("auto", MR_ENV, {
      cwd: "/",
      event: "schedule",
      changedFiles: async () => [],
    });
    expect(forced.context.event).toBe("schedule");
  });

  it("the same annotations select the same pipelines as on GitHub", async () => {
    const ci = await readGitLabContext(MR_ENV, { cwd: "/", changedFiles: async () => ["docs/a.md"] });
    const docsOnly = readTriggers({
      "skiff.dev/on-event": "pull_request",
      "skiff.dev/on-path-change": "docs/**",
    });
    const srcOnly = readTriggers({ "skiff.dev/on-path-change": "src/**" });
    const toMain = readTriggers({ "skiff.dev/on-target-branch": "main" });
    const nightly = readTriggers({ "skiff.dev/on-event": "schedule" });
    expect(matchTriggers(docsOnly, ci.context).run).toBe(true);
    expect(matchTriggers(srcOnly, ci.context).run).toBe(false);
    expect(matchTriggers(toMain, ci.context).run).toBe(true);
    expect(matchTriggers(nightly, ci.context).run).toBe(false);
  });
});

describe("changed files through git", () => {
  it("lists the files changed since the merge base; undefined when the base is not fetched", async () => {
    const dir = mkdtempSync(join(tmpdir(), "skiff-diff-"));
    try {
      const git = (...args: string[]) =>
        execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: dir })
          .toString()
          .trim();
      git("init", "-q", "-b", "main");
      writeFileSync(join(dir, "a.txt"), "a");
      git("add", ".");
      git("commit", "-qm", "a");
      const base = git("rev-parse", "HEAD");
      writeFileSync(join(dir, "b.txt"), "b");
      writeFileSync(join(dir, "a.txt"), "changed");
      git("add", ".");
      git("commit", "-qm", "b");
      const head = git("rev-parse", "HEAD");
      expect(await gitChangedFiles(base, head, dir)).toEqual(["a.txt", "b.txt"]);
      expect(await gitChangedFiles("c".repeat(40), head, dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
