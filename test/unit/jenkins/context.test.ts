import { describe, expect, it } from "vitest";
import { SkiffError } from "../../../runtime/errors/index.js";
import { readJenkinsContext, repositoryOf } from "../../../src/pipelines/providers/index.js";

const SHA = "c".repeat(40);

describe("Jenkins' environment as the Git context", () => {
  it("reads a multibranch build of a change request as a pull_request onto CHANGE_TARGET", async () => {
    const calls: string[][] = [];
    const ci = await readJenkinsContext(
      {
        JENKINS_URL: "https://jenkins.example.com/",
        GIT_COMMIT: SHA,
        GIT_URL: "https://github.com/acme/shop.git",
        CHANGE_ID: "12",
        CHANGE_TARGET: "main",
        CHANGE_BRANCH: "feature",
        BRANCH_NAME: "PR-12",
        CHANGE_AUTHOR: "grace",
        BUILD_URL: "https://jenkins.example.com/job/shop/job/PR-12/3/",
        WORKSPACE: "/var/jenkins/ws",
      },
      {
        cwd: "/",
        changedFiles: async (base, head, cwd) => {
          calls.push([base, head, cwd]);
          return ["src/a.ts"];
        },
      },
    );
    expect(calls).toEqual([["origin/main", SHA, "/"]]);
    expect(ci.context).toEqual({
      event: "pull_request",
      repository: "acme/shop",
      sha: SHA,
      ref: "refs/pull/12/head",
      branch: "feature",
      targetBranch: "main",
      pullRequest: 12,
      actor: "grace",
      changedFiles: ["src/a.ts"],
    });
    expect(ci).toMatchObject({
      provider: "jenkins",
      workspace: "/",
      jobUrl: expect.stringContaining("PR-12"),
    });
  });

  it("reads any other build as a push of BRANCH_NAME, with the files since the last successful build", async () => {
    const ci = await readJenkinsContext(
      { GIT_COMMIT: SHA, BRANCH_NAME: "main", GIT_PREVIOUS_SUCCESSFUL_COMMIT: "d".repeat(40) },
      { cwd: "/", changedFiles: async () => ["README.md"] },
    );
    expect(ci.context).toMatchObject({
      event: "push",
      ref: "refs/heads/main",
      targetBranch: "main",
      changedFiles: ["README.md"],
    });
    const single = await readJenkinsContext(
      { GIT_COMMIT: SHA, GIT_BRANCH: "origin/release" },
      { cwd: "/", changedFiles: async () => undefined },
    );
    expect(single.context).toMatchObject({ branch: "release", ref: "refs/heads/release" });
    expect(single.context.changedFiles).toBeUndefined();
  });

  it("refuses a build without GIT_COMMIT or with a malformed CHANGE_ID", async () => {
    const e = (await readJenkinsContext({ BRANCH_NAME: "main" }, { cwd: "/" }).catch(
      (x: unknown) => x,
    )) as SkiffError;
    expect(e).toBeInstanceOf(SkiffError);
    expect(e.code).toBe("SKF-CI-002");
    expect(e.hint).toMatch(/checkout scm/);
    const bad = (await readJenkinsContext({ GIT_COMMIT: SHA, CHANGE_ID: "PR-1" }, { cwd: "/" }).catch(
      (x: unknown) => x,
    )) as SkiffError;
    expect(bad.message).toBe("CHANGE_ID is not a number: PR-1");
  });

  it.each([
    ["https://github.com/acme/shop.git", "acme/shop"],
    ["git@gitlab.example.com:group/sub/project.git", "group/sub/project"],
    ["ssh://git@host:2222/acme/shop", "acme/shop"],
  ])("reads the repository of %s", (url, repo) => {
    expect(repositoryOf(url)).toBe(repo);
  });
});
