import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createHostExecutor, type HostExecutorOptions } from "../../../runtime/executors/host/index.js";
import { findBwrap, probeBwrap } from "../../../runtime/executors/host/sandbox.js";
import type { Clock, TimerHandle } from "../../../runtime/interfaces/clock.js";
import { executorSuite, leafRequest, runStep } from "../executors/helpers.js";

const bwrap = findBwrap();
export const BWRAP_AVAILABLE = bwrap !== undefined && probeBwrap(bwrap);
export const SANDBOX_MODES: ("none" | "bwrap")[] = BWRAP_AVAILABLE ? ["none", "bwrap"] : ["none"];
if (!BWRAP_AVAILABLE) console.warn("bubblewrap is not available: sandboxed host executor tests are skipped");

/** A hand-made request for one leaf template. */
export const stepRequest = leafRequest;

/** A temp folder, an executor and a local artifact repository, all removed by `dispose`. */
export async function setup(sandbox: "none" | "bwrap", options: HostExecutorOptions = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), "skiff-host-test-"));
  const executor = createHostExecutor({
    sandbox,
    workDir: path.join(dir, "work"),
    killGracePeriodMs: 2000,
    ...options,
  });
  return executorSuite(dir, executor, stepRequest);
}

export { runStep };

/** A clock whose timers fire only when the test says so; `now` is real time so timestamps stay sane. */
export class ManualClock implements Clock {
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  private offset = 0;

  now(): number {
    return Date.now() + this.offset;
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now() + ms, fn });
    return { id };
  }
  clearTimer(h: TimerHandle): void {
    this.timers.delete(h.id);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const h = this.setTimer(ms, resolve);
      signal?.addEventListener("abort", () => {
        this.clearTimer(h);
        reject(signal.reason);
      });
    });
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time forward, firing every timer that falls due. */
  advance(ms: number): void {
    this.offset += ms;
    for (const [id, t] of [...this.timers]) {
      if (t.at <= this.now()) {
        this.timers.delete(id);
        t.fn();
      }
    }
  }
}

/**
 * Whether any live process of the group still exists. Zombies do not count: orphans are reaped by PID 1,
 * which in some containers never reaps.
 */
export function groupAlive(pgid: number): boolean {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z") return true;
  }
  return false;
}
