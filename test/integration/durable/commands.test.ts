import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleCli, cli, newTrial, ROOT, start, stored, type Trial } from "./helpers.js";

const APPROVAL = join(ROOT, "test/integration/durable/fixtures/approval.yaml");

let cliPath = "";
let t: Trial;
beforeAll(async () => {
  cliPath = await bundleCli();
  t = newTrial();
  mkdirSync(t.workspace, { recursive: true });
}, 60_000);
afterAll(() => {
  if (t) rmSync(t.state, { recursive: true, force: true });
  if (cliPath) rmSync(dirname(cliPath), { recursive: true, force: true });
});

describe("workflow commands on the store", () => {
  it("resume a suspend step, wait, logs (follow, node), delete", async () => {
    const run = start(cliPath, t, ["run", APPROVAL, "--sandbox", "none"]);
    for (;;) {
      const wf = await stored(cliPath, t, "approval");
      const approve = Object.values(wf?.status?.nodes ?? {}).find((n) => n.displayName === "approve");
      if (approve?.phase === "Running") break;
    }
    const waiting = start(cliPath, t, ["wait", "approval"]).done;
    const following = start(cliPath, t, ["logs", "approval", "--follow"]).done;
    // Nothing to resume for the whole workflow is not an error while a suspend step waits.
    const resumed = await cli(cliPath, t, [
      "resume",
      "approval",
      "--node-field-selector",
      "displayName=approve",
    ]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toBe("workflow approval resume requested\n");

    expect((await run.done).code).toBe(0);
    const w = await waiting;
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toBe("approval Succeeded\n");
    const f = await following;
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout.split("\n").filter(Boolean).sort()).toEqual(
      ["build: built", "build: to-stderr", "deploy: deployed", "deploy: to-stderr"].sort(),
    );

    const deployOnly = await cli(cliPath, t, ["logs", "approval", "--node", "deploy", "-c", "main"]);
    expect(deployOnly.stdout.split("\n").filter(Boolean).sort()).toEqual([
      "deploy: deployed",
      "deploy: to-stderr",
    ]);
    // --since: a day covers every line; a millisecond, none (they were written before this command ran).
    const sinceDay = await cli(cliPath, t, ["logs", "approval", "--since", "1d"]);
    expect(sinceDay.stdout.split("\n").filter(Boolean)).toHaveLength(4);
    const sinceNow = await cli(cliPath, t, ["logs", "approval", "--since", "1ms"]);
    expect(sinceNow.code, sinceNow.stderr).toBe(0);
    expect(sinceNow.stdout).toBe("");
    const badSince = await cli(cliPath, t, ["logs", "approval", "--since", "soon"]);
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toMatch(/SKF-RUN-010/);
    const noNode = await cli(cliPath, t, ["logs", "approval", "--node", "nope"]);
    expect(noNode.code).toBe(2);
    expect(noNode.stderr).toMatch(/SKF-RUN-003/);

    const list = await cli(cliPath, t, ["list", "-o", "name"]);
    expect(list.stdout).toBe("approval\n");
    const finished = await cli(cliPath, t, ["suspend", "approval"]);
    expect(finished.code).toBe(2);
    expect(finished.stderr).toMatch(/SKF-RUN-004 workflow approval is not running \(phase Succeeded\)/);

    const del = await cli(cliPath, t, ["delete", "approval"]);
    expect(del.code, del.stderr).toBe(0);
    const gone = await cli(cliPath, t, ["get", "approval"]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/SKF-RUN-003/);
    expect((await cli(cliPath, t, ["wait", "approval"])).stderr).toMatch(/SKF-RUN-003/);
  }, 60_000);

  it("suspend and stop reach the running process; commands to nothing running are refused", async () => {
    const run = start(cliPath, t, ["run", APPROVAL, "--sandbox", "none", "--name", "held"]);
    for (;;) {
      const wf = await stored(cliPath, t, "held");
      if (Object.values(wf?.status?.nodes ?? {}).some((n) => n.displayName === "approve")) break;
    }
    expect((await cli(cliPath, t, ["suspend", "held"])).code).toBe(0);
    for (;;) if ((await stored(cliPath, t, "held"))?.spec.suspend) break;
    expect((await cli(cliPath, t, ["stop", "held"])).code).toBe(0);
    const r = await run.done;
    expect(r.code).toBe(1);
    expect((await stored(cliPath, t, "held"))?.status?.phase).toBe("Failed");
    expect((await cli(cliPath, t, ["terminate", "nope"])).stderr).toMatch(/SKF-RUN-003/);
  }, 60_000);

  it("every command has --help with examples", async () => {
    for (const c of ["resume", "suspend", "stop", "terminate", "get", "list", "logs", "wait", "delete"]) {
      const h = await cli(cliPath, t, [c, "--help"]);
      expect(h.stdout, c).toMatch(/Examples:\n {2}skiff /);
    }
  }, 60_000);
});
