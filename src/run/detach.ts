import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { defineErrorCodes, SkiffError } from "../../runtime/errors/index.js";
import type { Store } from "../../runtime/interfaces/store.js";
import { readRun } from "./control.js";
import { leaseAlive } from "./store.js";
import { isCompleted } from "./watch.js";

export const DETACH_CODES = defineErrorCodes({
  "SKF-RUN-009": {
    title: "Background run did not start",
    hint: "The background `skiff` process exited before it took the workflow; its output is in the log file the message names. `skiff resume NAME` runs it in the foreground.",
  },
});

/** Where the output of the background process that runs a workflow goes. */
export function detachedLogFile(stateDir: string, namespace: string, name: string): string {
  return join(stateDir, "background", namespace, `${name}.log`);
}

export interface DetachOptions {
  stateDir: string;
  config?: string;
  executor?: string;
  sandbox?: string;
  /** Give up waiting for the background process to take the workflow after this long. */
  startTimeoutMs?: number;
}

/**
 * Starts a background `skiff` process that continues a stored, unowned workflow (`skiff __continue`) and
 * returns once that process holds the workflow's lease (or has already completed it), so `wait`, `watch`
 * and the control commands work right away. Its output goes to `detachedLogFile`. Throws `SKF-RUN-009`
 * with the end of that log when the process exits first.
 */
export async function startDetached(
  store: Store,
  namespace: string,
  name: string,
  options: DetachOptions,
): Promise<{ pid: number; logFile: string }> {
  const logFile = detachedLogFile(options.stateDir, namespace, name);
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, "a");
  const args = ["__continue", name, "-n", namespace, "--state-dir", options.stateDir];
  if (options.config) args.push("--config", options.config);
  if (options.executor) args.push("--executor", options.executor);
  if (options.sandbox) args.push("--sandbox", options.sandbox);
  // The same entry point this process was started with (a bundle, or the sources under a loader).
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: { ...process.env, SKIFF_STATE_DIR: options.stateDir },
  });
  closeSync(fd);
  let exited: number | null | undefined;
  child.once("exit", (code) => (exited = code));
  const failed = (why: string) => {
    let tail = "";
    try {
      tail = readFileSync(logFile, "utf8").trim().split("\n").slice(-5).join("\n");
    } catch {
      // no log yet
    }
    return new SkiffError(
      "SKF-RUN-009",
      `the background run of ${name} ${why} (log: ${logFile})${tail ? `:\n${tail}` : ""}`,
    );
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    const wf = await readRun(store, namespace, name);
    if (isCompleted(wf) || leaseAlive(await store.getLease(namespace, name))) break;
    if (exited !== undefined) throw failed(`exited with code ${exited}`);
    if (Date.now() > deadline) throw failed("did not start in time");
    await new Promise((r) => setTimeout(r, 50));
  }
  child.unref();
  return { pid: child.pid ?? 0, logFile };
}
