import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { Workflow } from "../../runtime/spec/types.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const state = mkdtempSync(join(tmpdir(), "skiff-examples-"));
afterAll(() => rmSync(state, { recursive: true, force: true }));

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source as a user would run the bundle, from the repository root. */
function skiff(args: string[]): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "src/cli/index.ts", ...args],
      { cwd: ROOT, env: { ...process.env, SKIFF_STATE_DIR: state, CI: "1" }, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function runJson(file: string, ...extra: string[]): Promise<{ run: CliRun; wf: Workflow }> {
  const run = await skiff(["run", file, "-o", "json", ...extra]);
  let wf: Workflow;
  try {
    wf = JSON.parse(run.stdout) as Workflow;
  } catch {
    throw new Error(`no JSON on stdout (exit ${run.code}): ${run.stderr}`);
  }
  return { run, wf };
}

const nodesOf = (wf: Workflow) => Object.values(wf.status?.nodes ?? {});

describe("examples/", () => {
  it("hello-world prints its parameter and succeeds", async () => {
    const { run, wf } = await runJson(
      "examples/hello-world.yaml",
      "-p",
      "message=hi from the test",
      "--logs",
    );
    expect(run.code, run.stderr).toBe(0);
    expect(wf.status?.phase).toBe("Succeeded");
    expect(run.stderr).toContain("hi from the test");
  });

  it("node-ci lints, tests and packages the Node project", async () => {
    const { run, wf } = await runJson("examples/node-ci/pipeline.yaml", "--logs");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/pass 3/);
    const pkg = nodesOf(wf).find((n) => n.displayName === "package");
    expect(pkg?.outputs?.artifacts?.map((a) => a.name)).toEqual(["package"]);
  });

  it("fan-out-fan-in runs one node per item and gathers their outputs", async () => {
    const { run, wf } = await runJson("examples/fan-out-fan-in.yaml", "--logs");
    expect(run.code, run.stderr).toBe(0);
    const items = nodesOf(wf).filter((n) => /\.process\(\d+:/.test(n.name));
    expect(items.map((n) => n.displayName).sort()).toEqual([
      "process(0:alpha)",
      "process(1:beta)",
      "process(2:gamma)",
      "process(3:delta)",
    ]);
    expect(run.stderr).toContain('shard sizes: ["5","4","5","5"]');
  });

  it("retries fails twice, then succeeds on the third attempt", async () => {
    const { run, wf } = await runJson("examples/retries.yaml");
    expect(run.code, run.stderr).toBe(0);
    const attempts = nodesOf(wf).filter((n) => /\(\d\)$/.test(n.name));
    expect(attempts.map((n) => n.phase)).toEqual(["Failed", "Failed", "Succeeded"]);
  });

  it("exit-handler reports the failure, and the success when asked to pass", async () => {
    const failed = await runJson("examples/exit-handler.yaml", "--logs");
    expect(failed.run.code).toBe(1);
    expect(failed.wf.status?.phase).toBe("Failed");
    expect(failed.run.stderr).toMatch(/ended Failed/);
    const ok = await runJson("examples/exit-handler.yaml", "-p", "fail=false", "--logs");
    expect(ok.run.code).toBe(0);
    expect(ok.run.stderr).toMatch(/succeeded/);
  });

  it("artifacts passes a folder from one step to the next", async () => {
    const { run } = await runJson("examples/artifacts.yaml", "--logs");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("all 12 checks passed");
  });
});

describe("the README's first command", () => {
  // The part after `npm ci &&`: the committed bundle runs an example on the host executor.
  const line = readFileSync(join(ROOT, "README.md"), "utf8")
    .split("\n")
    .find((l) => l.startsWith("npm ci && node dist/cli.js run "));

  it.skipIf(!existsSync(join(ROOT, "dist/cli.js")))(
    "runs an example with the bundle, even where a Docker engine answers",
    async () => {
      expect(line, "README.md lost its first command").toBeDefined();
      const args = line!.replace("npm ci && node ", "").split(" ");
      const run = await new Promise<CliRun>((done) => {
        execFile(
          process.execPath,
          args,
          { cwd: ROOT, env: { ...process.env, SKIFF_STATE_DIR: state, CI: "1", SKIFF_EXECUTOR: "" } },
          (err, stdout, stderr) =>
            done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout + run.stderr).toContain("hello from skiff");
    },
  );
});

describe("the committed CLI bundle", () => {
  it.skipIf(!existsSync(join(ROOT, ".git")))("is committed executable, as the package's bin", () => {
    const entry = execFileSync("git", ["ls-files", "-s", "dist/cli.js"], { cwd: ROOT, encoding: "utf8" });
    expect(entry.split(" ")[0]).toBe("100755");
  });
});

describe("skiff run rejects bad input before running", () => {
  it("exits 2 with a coded error for a file that is not a workflow", async () => {
    const r = await skiff(["run", "package.json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SKF-/);
  });

  it("exits 2 for an unknown parameter syntax", async () => {
    const r = await skiff(["run", "examples/hello-world.yaml", "-p", "novalue"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SKF-CLI-001");
  });
});
