import { mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BWRAP_AVAILABLE } from "../host/helpers.js";
import { bundleCli, counts, FIXTURE, newTrial, start, stored, succeededIds, type Trial } from "./helpers.js";

const suite = BWRAP_AVAILABLE ? describe : describe.skip;

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

/** Kills `skiff run` once the store holds the workflow with at least one succeeded step. */
async function killedRun(t: Trial): Promise<void> {
  const run = start(cliPath, t, ["run", FIXTURE, "--sandbox", "bwrap", "-p", "nap=0.3"]);
  for (;;) {
    const wf = await stored(cliPath, t, "counted").catch(() => undefined);
    if (succeededIds(wf).length > 0) break;
  }
  run.child.kill("SIGKILL");
  await run.done;
}

suite("two controllers, one store", () => {
  it("two skiff resume of one killed run: exactly one runs it, the other names the owner", async () => {
    const t = trial();
    await killedRun(t);
    const a = start(cliPath, t, ["resume", "counted"]);
    const b = start(cliPath, t, ["resume", "counted"]);
    const results = await Promise.all([a.done, b.done]);
    const winners = results.filter((r) => r.code === 0);
    const losers = results.filter((r) => r.code !== 0);
    expect(winners, results.map((r) => r.stderr).join("\n")).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0]!.code).toBe(2);
    expect(losers[0]!.stderr).toMatch(/SKF-RUN-005 workflow (default\/)?counted .*run by process \d+ on /);
    expect((await stored(cliPath, t, "counted"))?.status?.phase).toBe("Succeeded");
    // The loser never ran a step: every step ran once, but the one the kill cut short (at most twice).
    const c = counts(t);
    expect([...c.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(1);
    expect(c.size).toBe(9);
  }, 60_000);

  it("a second skiff run of a workflow that is running is refused with the owner", async () => {
    const t = trial();
    const first = start(cliPath, t, ["run", FIXTURE, "--sandbox", "bwrap", "-p", "nap=0.3"]);
    for (;;) {
      const wf = await stored(cliPath, t, "counted").catch(() => undefined);
      if (wf?.status?.phase === "Running") break;
    }
    const second = await start(cliPath, t, ["run", FIXTURE, "--sandbox", "bwrap"]).done;
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/SKF-RUN-005 .*run by process \d+ on /);
    const r = await first.done;
    expect(r.code, r.stderr).toBe(0);
    expect([...counts(t).values()].every((n) => n === 1)).toBe(true);
  }, 60_000);
});
