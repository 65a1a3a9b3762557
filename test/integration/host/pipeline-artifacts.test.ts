import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, cliSuite, type Trial } from "../durable/helpers.js";
import { SANDBOX_MODES } from "./helpers.js";

/**
 * Issue 11, gap 11: a `kind: Pipeline` with relative artifact paths (`artifacts: {dist: dist}`) runs with
 * `skiff run` on the host executor, with and without bubblewrap. The paths are relative to the step's working
 * directory (the workspace), and neither the produced nor the placed artifact is left in the workspace.
 */
const PIPELINE = `kind: Pipeline
metadata:
  name: relative
tasks:
  build:
    run: |
      mkdir -p dist
      echo built > dist/out.txt
    artifacts:
      dist: dist
  use:
    needs: [build]
    inputs:
      dist: { from: build.dist }
    run: |
      test -f dist/out.txt
      echo "read $(cat dist/out.txt)"
`;

describe("a Pipeline's relative artifact paths on the host executor", () => {
  const suite = cliSuite();
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.each(SANDBOX_MODES)(
    "sandbox %s: dist is passed on and nothing is left in the workspace",
    async (mode) => {
      const state = mkdtempSync(join(tmpdir(), "skiff-pipeline-artifacts-"));
      dirs.push(state);
      const ws = join(state, "ws");
      mkdirSync(ws);
      const t: Trial = { state, workspace: ws };
      writeFileSync(join(ws, "pipeline.yaml"), PIPELINE);
      const r = await cli(suite.path, t, ["run", "pipeline.yaml", "--sandbox", mode, "--logs"]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain("read built");
      expect(readdirSync(ws)).toEqual(["pipeline.yaml"]);
    },
    120_000,
  );
});
