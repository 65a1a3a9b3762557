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
});
