import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The committed bundles must start on every Node major Skiff supports: Node 20 (the machines' own) and 24
// (GitHub's runners, and this project's scripts). A dependency that needs a newer Node must load lazily.
const ROOT = resolve(import.meta.dirname, "../../..");
const CANDIDATES = ["/usr/bin/node", "/usr/local/bin/node", process.execPath];
const majors = new Map<string, string>();
for (const bin of CANDIDATES) {
  if (!existsSync(bin)) continue;
  const version = execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
  majors.set(version.split(".")[0] ?? version, bin);
}

describe("dist/cli.js on every Node major present", () => {
  for (const [major, bin] of majors) {
    it(`starts and runs the README's first pipeline on Node ${major}`, () => {
      const version = spawnSync(bin, [join(ROOT, "dist/cli.js"), "--version"], { encoding: "utf8" });
      expect(version.stderr).toBe("");
      expect(version.status).toBe(0);
      const state = mkdtempSync(join(tmpdir(), "skiff-node-majors-"));
      try {
        const run = spawnSync(
          bin,
          [
            join(ROOT, "dist/cli.js"),
            ...["run", "examples/hello-world.yaml", "--executor", "host", "--sandbox", "none"],
            ...["--state-dir", state],
          ],
          { cwd: ROOT, encoding: "utf8", env: { ...process.env, SKIFF_STORE: "" } },
        );
        expect(run.stderr).not.toMatch(/TypeError|ReferenceError/);
        expect(run.status).toBe(0);
      } finally {
        rmSync(state, { recursive: true, force: true });
      }
    }, 60_000);
  }
});
