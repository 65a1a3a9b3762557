import { execFileSync } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "../../../src/testing/fake-github.js";
import { ACTION_POST, HEAD_SHA, ROOT, runAction, SHA, stateEnv } from "./harness.js";

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
    expect(run.summary).toContain("## Skiff: ✅ 1 pipeline succeeded");
    expect(run.summary).toContain("| ✅ | hello | Succeeded |");
  });
});
