import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SystemClock } from "../../../runtime/interfaces/clock.js";
import { FakeClock } from "../../../runtime/testing/fake-clock.js";
import { base64Forms, maskSecrets } from "../../../src/reporters/github-checks/markdown.js";
import { createOctokitClient } from "../../../src/reporters/github-checks/octokit.js";
import { createGitHubChecksReporter } from "../../../src/reporters/github-checks/reporter.js";
import { renderJobSummary } from "../../../src/reporters/job-summary/summary.js";
import { startFakeGitHub, type FakeGitHub } from "../../../src/testing/fake-github.js";
import { CI_TEXT, compilePipeline, WORKSPACE, WorkflowSim } from "../../unit/reporters/github/sim.js";

const TOKEN = "ghs_m4skt0ken";
const SECRET = "hunter2-s3cret";
const b64 = (s: string) => Buffer.from(s).toString("base64");
/** How a secret leaks in base64: alone, after a user name (any offset), before a newline. */
const LEAKS = [
  b64(SECRET),
  b64(`u:${SECRET}`),
  b64(`us:${SECRET}`),
  b64(`user:${SECRET}`),
  b64(`${SECRET}\n`),
];

let fake: FakeGitHub;
beforeAll(async () => {
  fake = await startFakeGitHub({ repository: "acme/app", tokens: [TOKEN] });
});
afterAll(async () => {
  await fake.close();
});

/** True when no base64 form of the secret is left in the text. */
const clean = (text: string) => base64Forms(SECRET).every((f) => !text.includes(f)) && !text.includes(SECRET);

describe("masking base64 forms of secrets", () => {
  it("masks the secret's base64 at every byte offset, with any prefix and suffix", () => {
    for (const leak of LEAKS) {
      const masked = maskSecrets(`value ${leak} end`, [SECRET]);
      expect(masked, leak).toContain("***");
      expect(clean(masked), leak).toBe(true);
    }
    expect(maskSecrets("plain text stays", [SECRET])).toBe("plain text stays");
  });

  it("masks them in check-run output, annotations and the job summary", async () => {
    const reporter = createGitHubChecksReporter({
      client: createOctokitClient({
        token: TOKEN,
        baseUrl: fake.url,
        repository: "acme/app",
        userAgent: "t",
      }),
      clock: new SystemClock(),
      headSha: "0123456789abcdef0123456789abcdef01234567",
      checks: "steps",
      workspace: WORKSPACE,
      secrets: [TOKEN, SECRET],
    });
    const compiled = compilePipeline(CI_TEXT);
    const sim = new WorkflowSim(compiled, reporter.listener(compiled, "ci"), new FakeClock());
    sim.start();
    sim.node("lint", { phase: "Running" });
    for (const leak of LEAKS) sim.log("lint", `src/app.ts:3:7: error: bad credentials ${leak}`);
    sim.node("lint", {
      phase: "Failed",
      message: `login failed with ${LEAKS[3]}`,
      outputs: { parameters: [{ name: "auth", value: LEAKS[1]! }] },
    });
    const wf = sim.finish("Failed", `child failed: ${LEAKS[2]}`);
    await reporter.finish();
    expect(fake.violations).toEqual([]);
    const runs = [...fake.checkRuns.values()];
    expect(runs.map((r) => r.name)).toEqual(["ci", "ci / lint"]);
    const lint = fake.checkRunByName("ci / lint")!;
    expect(lint.annotations.length).toBeGreaterThan(0);
    expect(clean(JSON.stringify(lint.annotations))).toBe(true);
    expect(clean(JSON.stringify(runs.map((r) => r.output)))).toBe(true);
    expect(JSON.stringify(lint.output)).toContain("***");

    const summary = renderJobSummary([{ pipeline: "ci", workflow: wf }], {
      secrets: [SECRET],
      now: Date.now(),
    });
    expect(summary).toContain("***");
    expect(clean(summary)).toBe(true);
  });
});
