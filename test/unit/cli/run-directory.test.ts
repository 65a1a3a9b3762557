import { mkdtempSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  listRuns,
  readRun,
  RunDirectory,
  sendCommand,
  type ControlCommand,
} from "../../../src/run/control.js";
import type { Workflow } from "../../../runtime/spec/types.js";

const wf = (phase: string): Workflow => ({
  apiVersion: "argoproj.io/v1alpha1",
  kind: "Workflow",
  metadata: { name: "w1", namespace: "default" },
  spec: {},
  status: { phase: phase as never },
});

describe("run folder", () => {
  it("keeps the latest snapshot and delivers commands to the running process", async () => {
    const root = mkdtempSync(join(tmpdir(), "skiff-runs-"));
    const run = new RunDirectory(root, "default", "w1", 10);
    await run.create();
    await run.writeSnapshot(wf("Running"));
    expect((await readRun(root, "default", "w1")).status?.phase).toBe("Running");
    expect((await listRuns(root)).map((w) => w.metadata.name)).toEqual(["w1"]);

    const got: ControlCommand[] = [];
    const delivered = new Promise<void>((resolve) => {
      const stop = run.watchCommands((c) => {
        got.push(c);
        stop();
        resolve();
      });
    });
    await sendCommand(root, "default", "w1", { action: "resume", nodeFieldSelector: "displayName=approve" });
    await delivered;
    expect(got).toEqual([{ action: "resume", nodeFieldSelector: "displayName=approve" }]);
    expect(readdirSync(run.commandsDir)).toEqual([]);
  });

  it("refuses commands for unknown or finished workflows", async () => {
    const root = mkdtempSync(join(tmpdir(), "skiff-runs-"));
    await expect(sendCommand(root, "default", "nope", { action: "stop" })).rejects.toMatchObject({
      code: "SKF-RUN-003",
    });
    const run = new RunDirectory(root, "default", "w1");
    await run.create();
    await run.writeSnapshot(wf("Succeeded"));
    await expect(sendCommand(root, "default", "w1", { action: "stop" })).rejects.toMatchObject({
      code: "SKF-RUN-004",
    });
    writeFileSync(join(run.dir, "pid"), "999999999");
    await run.writeSnapshot(wf("Running"));
    await expect(sendCommand(root, "default", "w1", { action: "stop" })).rejects.toMatchObject({
      code: "SKF-RUN-004",
    });
  });
});
