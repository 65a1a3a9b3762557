import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import type { Clock } from "../../interfaces/clock.js";
import { exitCodeOf } from "../shared/result.js";

export interface LaunchOptions {
  argv: string[];
  env: Record<string, string>;
  /** Working directory as the step sees it. */
  cwd: string;
  /** Working directory on the host (differs from `cwd` in a sandbox). */
  hostCwd: string;
  /** bwrap binary and mount arguments; absent to run directly on the host. */
  bwrap?: { path: string; args: readonly string[] };
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
}

export interface ProcessExit {
  exitCode: number | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  spawnError?: string;
  finishedAt: number;
}

/**
 * One running container process, leader of its own process group so that everything it starts can be
 * signalled at once.
 */
export class GroupProcess {
  readonly exited: Promise<ProcessExit>;
  private readonly child: ChildProcess;
  private done = false;
  private readonly sandboxed: boolean;

  constructor(
    options: LaunchOptions,
    private readonly clock: Clock,
  ) {
    this.sandboxed = options.bwrap !== undefined;
    const [file, args] = options.bwrap
      ? [
          options.bwrap.path,
          [
            ...options.bwrap.args,
            "--unshare-pid",
            "--die-with-parent",
            "--chdir",
            options.cwd,
            "--",
            ...options.argv,
          ],
        ]
      : [options.argv[0]!, options.argv.slice(1)];
    this.child = spawn(file, args, {
      cwd: options.bwrap ? "/" : options.hostCwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (c: Buffer) => options.onStdout(c));
    this.child.stderr?.on("data", (c: Buffer) => options.onStderr(c));
    this.exited = new Promise((resolve) => {
      let spawnError: string | undefined;
      this.child.on("error", (e: NodeJS.ErrnoException) => {
        spawnError =
          e.code === "ENOENT" ? `exec: "${options.argv[0]}": executable file not found in $PATH` : e.message;
        if (this.child.pid === undefined) {
          this.done = true;
          resolve({ exitCode: 127, spawnError, finishedAt: this.clock.now() });
        }
      });
      this.child.on("exit", () => {
        // Whatever the leader left running in its group dies with it, as in a container.
        this.signal("SIGKILL");
      });
      this.child.on("close", (code, signal) => {
        if (this.done) return;
        this.done = true;
        const r: ProcessExit = { exitCode: exitCodeOf(code, signal), finishedAt: this.clock.now() };
        if (spawnError) r.spawnError = spawnError;
        resolve(r);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.done && this.child.pid !== undefined;
  }

  /**
   * Signals the whole process group; a group that is already gone is fine. In a sandbox, bwrap itself is
   * spared anything but SIGKILL: it would die on SIGTERM and take the step down with SIGKILL at once, leaving
   * the step no grace period.
   */
  signal(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    if (this.sandboxed && sig !== "SIGKILL") {
      const members = groupMembers(pid).filter((m) => m.comm !== "bwrap");
      // Only bwrap there: the step has not started yet (or is gone), so there is nothing to be graceful to.
      if (members.length > 0) {
        for (const member of members) {
          try {
            process.kill(member.pid, sig);
          } catch {
            // already gone
          }
        }
        return;
      }
      sig = "SIGKILL";
    }
    try {
      process.kill(-pid, sig);
    } catch {
      // ESRCH: nothing left in the group.
    }
  }

  /**
   * Resolves once no live process of the group is left (or after `limitMs` of real time). A SIGKILLed group
   * closes its pipes a moment before its members are gone; a killed step should end only once they are.
   */
  async gone(limitMs = 1_000): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return;
    await this.exited;
    const until = Date.now() + limitMs;
    while (groupMembers(pid).length > 0 && Date.now() < until) {
      this.signal("SIGKILL");
      await delay(5);
    }
  }

  /** SIGTERM, then SIGKILL once `graceMs` of clock time has passed if the group is still there. */
  async terminate(graceMs: number): Promise<ProcessExit> {
    if (this.running) {
      this.signal("SIGTERM");
      const timer = this.clock.setTimer(graceMs, () => this.signal("SIGKILL"));
      const r = await this.exited;
      this.clock.clearTimer(timer);
      return r;
    }
    return this.exited;
  }
}

/** Live processes of a process group, from /proc (Linux, where bwrap runs). */
export function groupMembers(pgid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    if (Number(fields[2]) !== pgid || fields[0] === "Z") continue;
    out.push({ pid: Number(name), comm: stat.slice(stat.indexOf("(") + 1, close) });
  }
  return out;
}
