import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createHostExecutor } from "../../../runtime/executors/host/index.js";
import { runStep, stepRequest } from "./helpers.js";

describe("host executor: folders of killed runs (issue 12 item 6)", () => {
  it("removes step roots of supervisors that are gone unless a step's records still name them", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "skiff-leftovers-test-"));
    try {
      const workDir = path.join(dir, "steps");
      const recordsDir = path.join(dir, "records");
      const gone = spawnSync("true").pid;
      const orphan = path.join(workDir, `skiff-host-${gone}-aaaaaa`);
      const recorded = path.join(workDir, `skiff-host-${gone}-bbbbbb`);
      mkdirSync(path.join(orphan, "pod-1"), { recursive: true });
      mkdirSync(path.join(recorded, "pod-2"), { recursive: true });
      mkdirSync(path.join(recordsDir, "wf-uid", "wf-2"), { recursive: true });
      writeFileSync(
        path.join(recordsDir, "wf-uid", "wf-2", "step.json"),
        JSON.stringify({ dir: path.join(recorded, "pod-2") }),
      );
      const executor = createHostExecutor({ sandbox: "none", workDir, recordsDir, warn: () => undefined });
      const { result } = await runStep(
        executor,
        stepRequest({ name: "s", script: { image: "alpine", command: ["sh"], source: "echo hi" } }),
      );
      expect(result.phase).toBe("Succeeded");
      await executor.cleanup();
      expect(existsSync(orphan)).toBe(false);
      expect(existsSync(recorded)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("removes step records of killed runs once no process they name runs and the workflow cannot be resumed", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "skiff-leftovers-test-"));
    try {
      const workDir = path.join(dir, "steps");
      const recordsDir = path.join(dir, "records");
      const gone = spawnSync("true").pid!;
      /** The records a killed run leaves: its owner, a launch record and a step's status. */
      const records = (folder: string, uid: string, supervisor: number, pid: number) => {
        const wf = path.join(recordsDir, folder);
        mkdirSync(path.join(wf, "node-1"), { recursive: true });
        writeFileSync(
          path.join(wf, "workflow.json"),
          JSON.stringify({ namespace: "default", name: "w", uid }),
        );
        writeFileSync(path.join(wf, "node-1.launch"), JSON.stringify({ supervisor }));
        writeFileSync(
          path.join(wf, "node-1", "main.status"),
          JSON.stringify({ pid, supervisor, startedAt: 1 }) + "\n",
        );
        return wf;
      };
      const dead = records("w-dead", "dead", gone, gone);
      const resumable = records("w-resumable", "resumable", gone, gone);
      // A supervisor that still runs (this process stands in for it) may still have steps of its run.
      const live = records("w-live", "live", process.pid, gone);
      // Records from before workflow.json was written are kept: whose they are is unknown.
      const unknown = path.join(recordsDir, "w-unknown");
      mkdirSync(unknown, { recursive: true });
      const asked: string[] = [];
      const executor = createHostExecutor({
        sandbox: "none",
        workDir,
        recordsDir,
        warn: () => undefined,
        resumable: (w) => {
          asked.push(w.uid);
          return Promise.resolve(w.uid === "resumable");
        },
      });
      const { result } = await runStep(
        executor,
        stepRequest({ name: "s", script: { image: "alpine", command: ["sh"], source: "echo hi" } }),
      );
      expect(result.phase).toBe("Succeeded");
      await executor.cleanup();
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(resumable)).toBe(true);
      expect(existsSync(live)).toBe(true);
      expect(existsSync(unknown)).toBe(true);
      expect(asked.sort()).toEqual(["dead", "resumable"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
