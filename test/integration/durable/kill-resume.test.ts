import { rmSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BWRAP_AVAILABLE } from "../host/helpers.js";
import {
  bundleCli,
  cli,
  counts,
  FIXTURE,
  newTrial,
  outcome,
  processesWith,
  start,
  stored,
  succeededIds,
  type Trial,
} from "./helpers.js";

const TRIALS = 25;
const ALL_IDS = [
  "first",
  "left",
  "right",
  "join-left-done",
  "loop-a",
  "loop-b",
  "loop-c",
  "flaky",
  "last-ok",
];

// Steps must die with the killed `skiff run`: bwrap's --die-with-parent does that. Without bubblewrap a
// killed run leaves its steps to finish on their own, which this test would rightly report.
const suite = BWRAP_AVAILABLE ? describe : describe.skip;
if (!BWRAP_AVAILABLE) console.warn("bubblewrap is not available: the kill/resume fault test is skipped");

let cliPath = "";
const trials: Trial[] = [];
beforeAll(async () => {
  cliPath = await bundleCli();
}, 60_000);
afterAll(() => {
  for (const t of trials) rmSync(t.state, { recursive: true, force: true });
  if (cliPath) rmSync(dirname(cliPath), { recursive: true, force: true });
});

function trial(): Trial {
  const t = newTrial();
  mkdirSync(t.workspace, { recursive: true });
  trials.push(t);
  return t;
}

/** A nap unique to one trial, so `ps` finds that trial's steps only. */
const napOf = (i: number) => `0.2${String(i + 1).padStart(3, "0")}`;

suite("skiff run killed with SIGKILL, then skiff resume", () => {
  let reference: ReturnType<typeof outcome>;

  it("an uninterrupted run is the reference", async () => {
    const t = trial();
    const r = await cli(cliPath, t, ["run", FIXTURE, "--sandbox", "bwrap", "-p", "nap=0.2", "-o", "json"]);
    expect(r.code, r.stderr).toBe(0);
    reference = outcome(JSON.parse(r.stdout));
    expect(reference.phase).toBe("Succeeded");
    expect(Object.fromEntries(counts(t))).toEqual(Object.fromEntries(ALL_IDS.map((id) => [id, 1])));
  }, 60_000);

  it(`${TRIALS} trials: same phase and outputs, no succeeded step run again, no process left`, async () => {
    const report: string[] = [];
    const runTrial = async (i: number) => {
      const t = trial();
      const nap = napOf(i);
      const run = start(cliPath, t, ["run", FIXTURE, "--sandbox", "bwrap", "-p", `nap=${nap}`]);
      // Random points from before the first write to the last steps (an uninterrupted run takes ~3 s).
      const delay = 700 + Math.floor(Math.random() * 2300);
      const timer = setTimeout(() => run.child.kill("SIGKILL"), delay);
      const first = await run.done;
      clearTimeout(timer);

      const atKill = await stored(cliPath, t, "counted");
      const countsAtKill = counts(t);
      let final;
      const phase = atKill?.status?.phase;
      if (first.code === 0 || phase === "Succeeded" || phase === "Failed" || phase === "Error") {
        // It finished before the kill: nothing to resume.
        final = atKill!;
        report.push(`${i}: finished before kill at ${delay} ms`);
      } else if (!atKill) {
        // Killed before the first write: nothing ran, nothing to continue; run it again.
        expect(countsAtKill.size).toBe(0);
        const again = await cli(cliPath, t, ["run", FIXTURE, "--sandbox", "bwrap", "-p", `nap=${nap}`]);
        expect(again.code, again.stderr).toBe(0);
        final = (await stored(cliPath, t, "counted"))!;
        report.push(`${i}: killed at ${delay} ms before the first write`);
      } else {
        const resumed = await cli(cliPath, t, ["resume", "counted"]);
        expect(resumed.code, `trial ${i}: ${resumed.stderr}${resumed.stdout.slice(-2500)}`).toBe(0);
        final = (await stored(cliPath, t, "counted"))!;
        report.push(`${i}: killed at ${delay} ms with ${succeededIds(atKill).length} steps succeeded`);
      }

      expect(outcome(final), `trial ${i}`).toEqual(reference);
      const after = counts(t);
      for (const id of ALL_IDS) expect(after.get(id) ?? 0, `trial ${i}: ${id}`).toBeGreaterThanOrEqual(1);
      // Steps the store had as succeeded when the run was killed were not run again.
      for (const id of succeededIds(atKill))
        expect(after.get(id), `trial ${i}: ${id} succeeded before the kill`).toBe(countsAtKill.get(id));
      // A step can run to its end only once more than the store knew: the one whose end was not yet persisted.
      for (const [id, n] of after) expect(n, `trial ${i}: ${id}`).toBeLessThanOrEqual(2);
      expect(await processesWith(`sleep ${nap}`), `trial ${i}: step processes left`).toEqual([]);
    };
    // Two trials at a time: each has its own state folder and workspace.
    let next = 0;
    const worker = async () => {
      while (next < TRIALS) await runTrial(next++);
    };
    await Promise.all([worker(), worker()]);
    console.log(report.join("\n"));
    expect(report.filter((r) => r.includes("steps succeeded")).length).toBeGreaterThanOrEqual(TRIALS / 2);
  }, 240_000);
});
