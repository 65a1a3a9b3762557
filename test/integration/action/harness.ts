import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll } from "vitest";
import type { FakeGitHub } from "../../../src/testing/fake-github.js";

/** Folders of the action runs of the importing test file, removed after its tests. */
const runDirs: string[] = [];
afterAll(() => {
  for (const d of runDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export const ROOT = resolve(import.meta.dirname, "../../..");
export const ACTION = join(ROOT, "dist/action.js");
export const ACTION_POST = join(ROOT, "dist/action-post.js");
/** The action's entry point as source, run through tsx (`nodeArgs: TSX`): no bundle needs building. */
export const ACTION_SOURCE = join(ROOT, "src/action/index.ts");
export const TSX = ["--import", pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href];
export const SHA = "0123456789abcdef0123456789abcdef01234567";
export const HEAD_SHA = "89abcdef0123456789abcdef0123456789abcdef";

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  workspace: string;
  env: NodeJS.ProcessEnv;
}

export interface ActionCase {
  fake: FakeGitHub;
  /** Files of the checkout, by path. */
  files: Record<string, string>;
  event: string;
  payload: unknown;
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  ref?: string;
  sha?: string;
  script?: string;
  /** Arguments for node before the script (`TSX` to run the source entry point). */
  nodeArgs?: string[];
}

/** Reads `GITHUB_OUTPUT`'s `name<<delimiter` blocks. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (m) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]!);
      out[m[1]!] = value.join("\n");
    } else if (lines[i]!.includes("=")) {
      const [k, ...v] = lines[i]!.split("=");
      out[k!] = v.join("=");
    }
  }
  return out;
}

/**
 * Runs the bundled action as GitHub would: a child process with GitHub's variables, an event payload file,
 * `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY` and `GITHUB_STATE`, talking to the fake API. Spawned asynchronously so
 * the in-process fake can answer.
 */
export async function runAction(c: ActionCase): Promise<ActionRun> {
  return startAction(c).done;
}

/** Starts the action and returns its process, for tests that stop it midway. */
export function startAction(c: ActionCase): {
  child: ChildProcess;
  done: Promise<ActionRun>;
  env: NodeJS.ProcessEnv;
} {
  const dir = mkdtempSync(join(tmpdir(), "skiff-action-"));
  runDirs.push(dir);
  const workspace = join(dir, "workspace");
  for (const [path, text] of Object.entries(c.files)) {
    mkdirSync(dirname(join(workspace, path)), { recursive: true });
    writeFileSync(join(workspace, path), text);
  }
  mkdirSync(workspace, { recursive: true });
  const eventPath = join(dir, "event.json");
  writeFileSync(eventPath, JSON.stringify(c.payload));
  const files = { output: join(dir, "output"), summary: join(dir, "summary.md"), state: join(dir, "state") };
  for (const f of Object.values(files)) writeFileSync(f, "");
  mkdirSync(join(dir, "runner-temp"));
  const inputs: Record<string, string> = {
    "github-token": "ghs_t0kenvalue123",
    executor: "host",
    ...(c.inputs ?? {}),
  };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CI: "true",
    GITHUB_ACTIONS: "true",
    GITHUB_EVENT_NAME: c.event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: "acme/app",
    GITHUB_SHA: c.sha ?? SHA,
    GITHUB_REF: c.ref ?? "refs/heads/main",
    GITHUB_ACTOR: "octocat",
    GITHUB_WORKSPACE: workspace,
    GITHUB_RUN_ID: "4242",
    GITHUB_JOB: "skiff",
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_API_URL: c.fake.url,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    RUNNER_TEMP: join(dir, "runner-temp"),
    SKIFF_STATE_DIR: join(dir, "state-dir"),
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    ...(c.env ?? {}),
  };
  const child = spawn(process.execPath, [...(c.nodeArgs ?? []), c.script ?? ACTION], {
    cwd: workspace,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  // A killed action may leave a step's process holding its output pipes: wait for them briefly, not forever.
  const closed = new Promise<void>((r) => child.on("close", () => r()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const done = exited
    .then(async (code) => {
      await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
      return code;
    })
    .then((code) => ({
      code,
      stdout,
      stderr,
      outputs: parseOutputs(readFileSync(files.output, "utf8")),
      summary: readFileSync(files.summary, "utf8"),
      workspace,
      env,
    }));
  return { child, done, env };
}

/** GITHUB_STATE lines (`name<<delimiter` blocks) as the post step receives them: `STATE_<name>` variables. */
export function stateEnv(run: { env: NodeJS.ProcessEnv }): Record<string, string> {
  const state = parseOutputs(readFileSync(run.env.GITHUB_STATE!, "utf8"));
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]));
}

/** The check runs the action lists as open (its post step's input), or undefined before it wrote any. */
export function openChecks(env: NodeJS.ProcessEnv): { id: number; name: string }[] | undefined {
  const file = stateEnv({ env })["STATE_open-checks-file"];
  if (!file) return undefined;
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { open: { id: number; name: string }[] }).open;
  } catch {
    return undefined;
  }
}
