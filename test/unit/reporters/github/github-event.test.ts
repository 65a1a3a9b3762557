import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readGitHubEvent } from "../../../../src/action/github-event.js";
import { MemoryGitHub } from "../../../../src/testing/memory-github.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const HEAD = "89abcdef0123456789abcdef0123456789abcdef";

function env(event: string, payload: unknown, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), "skiff-event-"));
  writeFileSync(join(dir, "event.json"), JSON.stringify(payload));
  return {
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: join(dir, "event.json"),
    GITHUB_REPOSITORY: "acme/app",
    GITHUB_SHA: SHA,
    GITHUB_REF: "refs/heads/main",
    GITHUB_ACTOR: "octocat",
    ...extra,
  };
}

describe("the Git context of a GitHub event", () => {
  it("reads a push: branch, head commit message and the files its commits changed", async () => {
    const { context } = await readGitHubEvent(
      env("push", {
        after: SHA,
        head_commit: { message: "Fix [skip ci]" },
        commits: [
          { added: ["b.ts"], modified: ["a.ts"], removed: [] },
          { added: [], modified: ["a.ts"], removed: ["c.ts"] },
        ],
      }),
      new MemoryGitHub(),
    );
    expect(context).toEqual({
      event: "push",
      repository: "acme/app",
      sha: SHA,
      ref: "refs/heads/main",
      branch: "main",
      targetBranch: "main",
      actor: "octocat",
      headCommitMessage: "Fix [skip ci]",
      changedFiles: ["a.ts", "b.ts", "c.ts"],
    });
  });

  it("leaves the changed files unknown when a push lists no commits", async () => {
    const { context, notes } = await readGitHubEvent(
      env("push", { after: SHA, commits: [] }),
      new MemoryGitHub(),
    );
    expect(context.changedFiles).toBeUndefined();
    expect(notes).toEqual(["the push lists no commits, so path filters match"]);
  });

  it("reads a pull request: head commit, branches, files, fork, and the head commit's message", async () => {
    const gh = new MemoryGitHub();
    gh.pullRequests.set(7, {
      number: 7,
      headSha: HEAD,
      headRef: "f",
      baseRef: "main",
      fork: true,
      files: ["x.ts"],
    });
    gh.commits.set(HEAD, "WIP [ci skip]");
    const { context, fork } = await readGitHubEvent(
      env(
        "pull_request",
        {
          action: "synchronize",
          pull_request: {
            number: 7,
            head: { sha: HEAD, ref: "f", repo: { full_name: "someone/app" } },
            base: { ref: "main", repo: { full_name: "acme/app" } },
          },
        },
        { GITHUB_REF: "refs/pull/7/merge", GITHUB_HEAD_REF: "f", GITHUB_BASE_REF: "main" },
      ),
      gh,
    );
    expect(fork).toBe(true);
    expect(context).toMatchObject({
      action: "synchronize",
      sha: HEAD,
      ref: "refs/pull/7/merge",
      branch: "f",
      targetBranch: "main",
      pullRequest: 7,
      changedFiles: ["x.ts"],
      headCommitMessage: "WIP [ci skip]",
    });
  });

  it("reads a comment on a pull request through the API, and keeps going when the API refuses", async () => {
    const gh = new MemoryGitHub();
    gh.pullRequests.set(9, {
      number: 9,
      headSha: HEAD,
      headRef: "fix",
      baseRef: "main",
      fork: false,
      files: [],
    });
    const payload = { issue: { number: 9, pull_request: {} }, comment: { body: "/retest" } };
    const { context } = await readGitHubEvent(env("issue_comment", payload), gh);
    expect(context).toMatchObject({
      sha: HEAD,
      branch: "fix",
      targetBranch: "main",
      pullRequest: 9,
      comment: "/retest",
    });
    const refused = await readGitHubEvent(
      env("issue_comment", { ...payload, issue: { number: 10, pull_request: {} } }),
      gh,
    );
    expect(refused.context.sha).toBe(SHA);
    expect(refused.context.changedFiles).toBeUndefined();
    expect(refused.notes).toHaveLength(2);
  });

  it("reads workflow_dispatch inputs as strings", async () => {
    const { context } = await readGitHubEvent(
      env("workflow_dispatch", { inputs: { environment: "prod", dry: true } }),
      new MemoryGitHub(),
    );
    expect(context.inputs).toEqual({ environment: "prod", dry: "true" });
  });

  it("says which variable is missing outside GitHub Actions", async () => {
    await expect(readGitHubEvent({}, new MemoryGitHub())).rejects.toMatchObject({
      code: "SKF-GH-003",
      message: "GITHUB_EVENT_NAME is not set",
    });
  });
});
