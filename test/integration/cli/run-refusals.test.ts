import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, cliSuite, counts, ROOT, start, stored, type Trial } from "../durable/helpers.js";

/*
 * What `skiff run`, `submit`, `list` and `lint` refuse, end to end: the CLI bundle as users run it, host
 * executor without sandbox, the embedded store of a temp state folder.
 */

const FIXTURES = join(ROOT, "test/integration/cli/fixtures");
const FIXED = join(FIXTURES, "fixed-name.yaml");
const NO_SANDBOX = ["--sandbox", "none"];

const suite = cliSuite();
const trial = (): Trial => suite.trial();
const skiff = (t: Trial, ...args: string[]) => cli(suite.path, t, args);

describe("a fixed metadata.name is created once (Argo's AlreadyExists)", () => {
  it("a second run or submit of an existing name is refused; nothing runs again, the stored one is kept", async () => {
    const t = trial();
    const first = await skiff(t, "run", FIXED, ...NO_SANDBOX);
    expect(first.code, first.stderr).toBe(0);
    const before = await stored(suite.path, t, "fixed");
    expect(before?.status?.phase).toBe("Succeeded");

    const again = await skiff(t, "run", FIXED, ...NO_SANDBOX);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/SKF-RUN-014 workflows\.argoproj\.io "fixed" already exists/);
    expect(again.stderr).toMatch(/skiff resume NAME/);
    expect(again.stderr).toMatch(/skiff delete NAME/);
    expect(again.stderr).toMatch(/generateName/);

    const submitted = await skiff(t, "submit", FIXED, ...NO_SANDBOX);
    expect(submitted.code).toBe(2);
    expect(submitted.stderr).toMatch(/SKF-RUN-014/);

    expect(Object.fromEntries(counts(t))).toEqual({ a: 1, b: 1 });
    const after = await stored(suite.path, t, "fixed");
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(after?.status).toEqual(before?.status);

    // A new name runs.
    const renamed = await skiff(t, "run", FIXED, ...NO_SANDBOX, "--name", "fixed-2");
    expect(renamed.code, renamed.stderr).toBe(0);
  }, 60_000);
});

describe("kind: Pipeline files run and lint directly", () => {
  const PIPELINE = join(FIXTURES, "pipeline.yaml");

  it("skiff run converts a Pipeline without apiVersion as the Action does and runs it", async () => {
    const t = trial();
    const r = await skiff(t, "run", PIPELINE, "--executor", "host", ...NO_SANDBOX, "-o", "json");
    expect(r.code, r.stderr).toBe(0);
    const wf = JSON.parse(r.stdout) as { metadata: { name: string }; status: { phase: string } };
    expect(wf.metadata.name).toMatch(/^compact-[a-z0-9]{5}$/);
    expect(wf.status.phase).toBe("Succeeded");
    expect(Object.fromEntries(counts(t))).toEqual({ hello: 1, second: 1 });
  }, 60_000);

  it("skiff lint reads a Pipeline instead of rejecting its kind", async () => {
    const t = trial();
    const r = await skiff(t, "lint", PIPELINE);
    expect(r.stdout).not.toMatch(/SKF-SPEC-00[45]/);
    expect(r.stdout).toBe("1 object in 1 file: no problems found\n");
    expect(r.code).toBe(0);
  }, 60_000);
});

describe("a run continues on the executor it was started with", () => {
  const WAIT_GO = join(FIXTURES, "wait-go.yaml");

  /** Starts `skiff run` on the host executor and kills it while step b runs. */
  async function killedRun(t: Trial): Promise<void> {
    const run = start(suite.path, t, ["run", WAIT_GO, "--executor", "host", ...NO_SANDBOX]);
    for (;;) {
      const wf = await stored(suite.path, t, "wait-go");
      const b = Object.values(wf?.status?.nodes ?? {}).find((n) => n.displayName === "b");
      if (b?.phase === "Running") break;
    }
    run.child.kill("SIGKILL");
    await run.done;
  }

  it("resume of a killed run uses the recorded executor, not the default of the resuming process", async () => {
    const t = trial();
    await killedRun(t);
    const killed = await stored(suite.path, t, "wait-go");
    const source = JSON.parse(killed?.metadata.annotations?.["skiff.dev/run-source"] ?? "{}") as {
      executor?: { executor: string; host: { sandbox: string } };
    };
    expect(source.executor?.executor).toBe("host");
    expect(source.executor?.host.sandbox).toBe("none");

    // The default where it resumes is an executor that is not available here.
    const config = join(t.state, "other.yaml");
    writeFileSync(config, "executor: kubernetes\n");
    writeFileSync(join(t.workspace, "go"), "");
    const resumed = await skiff(t, "resume", "wait-go", "--config", config);
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    expect((await stored(suite.path, t, "wait-go"))?.status?.phase).toBe("Succeeded");
    expect(Object.fromEntries(counts(t))).toEqual({ a: 1, b: 1 });
  }, 60_000);

  it("resume --executor overrides the recorded executor", async () => {
    const t = trial();
    await killedRun(t);
    const resumed = await skiff(t, "resume", "wait-go", "--executor", "kubernetes");
    // No cluster is configured here: the override reaches the Kubernetes executor, which says so.
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toMatch(/SKF-KUBE-001 no Kubernetes cluster is configured/);
  }, 60_000);
});

describe("a state folder that cannot be created", () => {
  it("list and run fail with a coded error naming the folder", async () => {
    const t = trial();
    for (const args of [["list"], ["run", FIXED, "--executor", "host", ...NO_SANDBOX]]) {
      const r = await skiff(t, ...args, "--state-dir", "/proc/skiff-no-such/state");
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /SKF-RUN-015 cannot create the store folder \/proc\/skiff-no-such\/state\/store/,
      );
    }
  }, 60_000);
});

describe("unknown values and nothing to do are errors", () => {
  it("list --status with an unknown phase", async () => {
    const t = trial();
    const r = await skiff(t, "list", "--status", "Bogus");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /SKF-RUN-010 "Bogus" is not a workflow phase\n {2}hint: --status takes Pending, Running/,
    );
  }, 60_000);

  it("lint of a folder with nothing to lint", async () => {
    const t = trial();
    const r = await skiff(t, "lint", t.workspace);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(
      /SKF-CLI-002 +nothing to lint in .*: no YAML or JSON files\n.*hint: Give the files/,
    );
  }, 60_000);
});

describe("a closed stdout", () => {
  it("skiff run | head: no crash, the run finishes and its stored phase is true", async () => {
    const t = trial();
    const child = spawn(
      process.execPath,
      [suite.path, "run", FIXED, "--executor", "host", ...NO_SANDBOX, "--logs"],
      { cwd: t.workspace, env: { ...process.env, SKIFF_STATE_DIR: t.state, CI: "1", SKIFF_STORE: "" } },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    // As `head -1`: read up to the first line, then close the pipe.
    await new Promise<void>((resolveLine) => {
      let out = "";
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.includes("\n")) {
          child.stdout.destroy();
          resolveLine();
        }
      });
    });
    const code = await new Promise<number | null>((done) => child.on("close", (c) => done(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code, stderr).toBe(0);
    expect((await stored(suite.path, t, "fixed"))?.status?.phase).toBe("Succeeded");
    expect(Object.fromEntries(counts(t))).toEqual({ a: 1, b: 1 });
  }, 60_000);
});

describe("lint and duplicate keys, as docs/lint.md says", () => {
  it("by default the last value wins with a note; --strict makes it a problem; --no-strict is not an option", async () => {
    const t = trial();
    const file = join(t.workspace, "dup.yaml");
    writeFileSync(
      file,
      [
        "apiVersion: argoproj.io/v1alpha1",
        "kind: Workflow",
        "metadata: {generateName: dup-}",
        "spec:",
        "  entrypoint: main",
        "  entrypoint: main",
        '  templates: [{name: main, container: {image: alpine, command: ["true"]}}]',
        "",
      ].join("\n"),
    );
    const lenient = await skiff(t, "lint", file);
    expect(lenient.code, lenient.stdout).toBe(0);
    expect(lenient.stdout).toMatch(/note: .*dup\.yaml:6/);
    const strict = await skiff(t, "lint", file, "--strict");
    expect(strict.code).toBe(2);
    expect(strict.stdout).toMatch(/SKF-SPEC-002/);
    const docs = readFileSync(join(ROOT, "docs/lint.md"), "utf8");
    expect(docs).not.toMatch(/--no-strict/);
    expect(docs).toMatch(/skiff lint PATH\.\.\. \[-o table\|json\] \[--strict\]/);
  }, 60_000);
});
