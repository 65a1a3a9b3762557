import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll } from "vitest";
import type { Workflow } from "../../../runtime/spec/types.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const FIXTURE = join(ROOT, "test/integration/durable/fixtures/counted.yaml");

/**
 * Bundles the CLI once, as `npm run build` does: a bundle starts in a fraction of the time tsx takes, which
 * keeps dozens of kill/resume trials short.
 */
export async function bundleCli(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), "skiff-durable-cli-"));
  await build({
    entryPoints: [join(ROOT, "src/cli/index.ts")],
    outfile: join(out, "cli.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    // As scripts/build.mjs: ssh2's optional native helpers stay out of the bundle.
    external: ["cpu-features", "*.node", "proxy-agent"],
    banner: {
      js: [
        'import { createRequire as __skiffCreateRequire } from "node:module";',
        "const require = __skiffCreateRequire(import.meta.url);",
        'import { fileURLToPath as __skiffFileURLToPath } from "node:url";',
        'import { dirname as __skiffDirname } from "node:path";',
        "const __filename = __skiffFileURLToPath(import.meta.url);",
        "const __dirname = __skiffDirname(__filename);",
      ].join("\n"),
    },
  });
  return join(out, "cli.mjs");
}

/** The CLI bundle of one test file, and the trial folders its tests make. */
export interface CliSuite {
  /** The bundle's path (set once the file's `beforeAll` has run). */
  readonly path: string;
  /** A new state folder with its workspace, removed after the file's tests. */
  trial(): Trial;
}

/** Bundles the CLI before the calling file's tests and removes the bundle and every trial after them. */
export function cliSuite(): CliSuite {
  let path = "";
  const trials: Trial[] = [];
  beforeAll(async () => {
    path = await bundleCli();
  }, 60_000);
  afterAll(() => {
    for (const t of trials) rmSync(t.state, { recursive: true, force: true });
    if (path) rmSync(dirname(path), { recursive: true, force: true });
  });
  return {
    get path() {
      return path;
    },
    trial() {
      const t = newTrial();
      mkdirSync(t.workspace, { recursive: true });
      trials.push(t);
      return t;
    },
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Trial {
  state: string;
  workspace: string;
}

export function newTrial(): Trial {
  const state = mkdtempSync(join(tmpdir(), "skiff-durable-"));
  const workspace = join(state, "ws");
  return { state, workspace };
}

function env(t: Trial): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, SKIFF_STATE_DIR: t.state, CI: "1" };
  delete e.SKIFF_STORE;
  return e;
}

/** Starts the CLI in the trial's workspace. */
export function start(cli: string, t: Trial, args: string[]): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [cli, ...args], { cwd: t.workspace, env: env(t) });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliRun>((resolveRun) =>
    child.on("close", (code, signal) => resolveRun({ code: code ?? (signal ? -1 : 0), stdout, stderr })),
  );
  return { child, done };
}

export function cli(cliPath: string, t: Trial, args: string[]): Promise<CliRun> {
  return start(cliPath, t, args).done;
}

/** The stored workflow, or undefined when the store does not know it (yet). */
export async function stored(cliPath: string, t: Trial, name: string): Promise<Workflow | undefined> {
  const r = await cli(cliPath, t, ["get", name, "-o", "json"]);
  if (r.code !== 0) {
    if (r.stderr.includes("SKF-RUN-003")) return undefined;
    throw new Error(`skiff get failed (${r.code}): ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as Workflow;
}

/** How many times each step ran to its end: lines of counter.txt by step id. */
export function counts(t: Trial): Map<string, number> {
  const file = join(t.workspace, "counter.txt");
  const out = new Map<string, number>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, "utf8").split("\n").filter(Boolean))
    out.set(line, (out.get(line) ?? 0) + 1);
  return out;
}

/** The counter id each succeeded step of a stored workflow writes (its `id` input, or `flaky`). */
export function succeededIds(wf: Workflow | undefined): string[] {
  const ids: string[] = [];
  for (const n of Object.values(wf?.status?.nodes ?? {})) {
    if (n.type !== "Pod" || n.phase !== "Succeeded") continue;
    const id = n.inputs?.parameters?.find((p) => p.name === "id")?.value;
    ids.push(id ?? (n.templateName === "flaky" ? "flaky" : `?${n.name}`));
  }
  return ids;
}

/** Phase and outputs by node display name: what an uninterrupted and a resumed run must agree on. */
export function outcome(wf: Workflow): { phase: string; outputs: Record<string, string> } {
  const outputs: Record<string, string> = {};
  for (const n of Object.values(wf.status?.nodes ?? {})) {
    // Retry attempts are left out: the attempt a killed run was in may end as a lost (errored) attempt.
    if (
      n.phase !== "Succeeded" ||
      n.outputs?.result === undefined ||
      (n.type === "Pod" && /\(\d+\)$/.test(n.displayName ?? ""))
    )
      continue;
    outputs[n.displayName ?? n.name] = n.outputs.result;
  }
  return { phase: wf.status?.phase ?? "", outputs };
}

/** Command lines of running processes that contain `needle`. */
export function processesWith(needle: string): Promise<string[]> {
  return new Promise((done, fail) =>
    execFile("ps", ["-eo", "pid,args"], (err, stdout) => {
      if (err) return fail(err);
      done(stdout.split("\n").filter((l) => l.includes(needle) && !l.includes("ps -eo")));
    }),
  );
}
