import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "../../../src/testing/fake-github.js";
import { ACTION_SOURCE, runAction, SHA, TSX } from "./harness.js";

// GitHub's secondary limits, simulated by the fake on the system clock: a burst over them would be refused.
let fake: FakeGitHub;
beforeAll(async () => {
  fake = await startFakeGitHub({
    repository: "acme/app",
    tokens: ["ghs_t0kenvalue123"],
    rateLimits: { writesPerMinute: 80, writesPerHour: 500, requestsPerHour: 1000 },
  });
});
afterAll(async () => {
  await fake.close();
});

const parallel = (n: number) => `kind: Pipeline
metadata:
  name: wide
on: [push]
tasks:
${Array.from({ length: n }, (_, i) => `  step-${i}:\n    run: sleep 1; echo step ${i}\n`).join("")}`;

const pushPayload = {
  ref: "refs/heads/main",
  after: SHA,
  head_commit: { id: SHA, message: "Widen the pipeline" },
  commits: [{ id: SHA, message: "Widen the pipeline", added: [], modified: ["src/app.ts"], removed: [] }],
  sender: { login: "octocat" },
};

describe("the action reporting a wide pipeline (src/action/index.ts)", () => {
  it("reports 40 parallel one-second steps with at most 45 writes, never refused", async () => {
    const run = await runAction({
      fake,
      files: { ".skiff/wide.yaml": parallel(40) },
      event: "push",
      payload: pushPayload,
      script: ACTION_SOURCE,
      nodeArgs: TSX,
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(fake.violations).toEqual([]);
    expect(fake.checkRuns.size).toBe(41);
    expect([...fake.checkRuns.values()].every((r) => r.conclusion === "success")).toBe(true);
    const counters = fake.counters();
    expect(counters.rateLimited).toBe(0);
    expect(counters.writes).toBeLessThanOrEqual(45);
    expect(fake.checkRunByName("wide / step-39")!.output.text).toContain("step 39");
    expect(run.summary).toContain("| ✅ | step-39 | Succeeded |");
  });
});
