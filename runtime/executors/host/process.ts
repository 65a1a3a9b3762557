import {
  closeSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  watch,
  type FSWatcher,
} from "node:fs";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { Clock } from "../../interfaces/clock.js";
import type { Supervisor } from "./supervisor.js";

export interface LaunchOptions {
  argv: string[];
  env: Record<string, string>;
  /** Working directory as the step sees it. */
  cwd: string;
  /** Working directory on the host (differs from `cwd` in a sandbox). */
  hostCwd: string;
  /** bwrap binary and mount arguments; absent to run directly on the host. */
  bwrap?: { path: string; args: readonly string[] };
  /**
   * The step's records folder and the container's name there: stdout and stderr go to files in it, read back
   * into `onStdout`/`onStderr`. Without it the output is discarded (readiness probes).
   */
  records?: { dir: string; name: string; fresh?: boolean; meta?: string };
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
  /**
   * The command runs on a terminal of its own (`tty: true`): under util-linux `script`, which starts it in a
   * session of its own, outside the process group. Its sessions are then signalled with the group.
   */
  tty?: boolean;
}

export interface ProcessExit {
  exitCode: number | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  spawnError?: string;
  /** Set when the process is gone and nothing recorded how it ended (a lost pod, to Argo). */
  lost?: string;
  finishedAt: number;
}

/** A container's `<name>.status` record, as the supervisor wrote it. */
export interface RecordedStatus {
  pid: number;
  supervisor: number;
  startedAt: number;
  end?: { exitCode: number | null; finishedAt: number; error?: string };
}

/** Reads a container's status record; undefined when the container was never started. */
export function readStatus(dir: string, name: string): RecordedStatus | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(dir, `${name}.status`), "utf8");
  } catch {
    return undefined;
  }
  let status: RecordedStatus | undefined;
  for (const line of text.split("\n")) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // an empty or half-written line
    }
    if (typeof o.pid === "number") {
      status = { pid: o.pid, supervisor: Number(o.supervisor), startedAt: Number(o.startedAt) };
    } else if (status && "exitCode" in o) {
      status.end = { exitCode: o.exitCode as number | null, finishedAt: Number(o.finishedAt) };
      if (typeof o.error === "string") status.end.error = o.error;
    }
  }
  return status;
}

/** Until this much real time has passed, a step's output is read only when it ends (most steps are short). */
const LIVE_TAIL_AFTER_MS = 20;
/** Output files are also read this often, in case a change notification is missed. */
const TAIL_POLL_MS = 1_000;
/** An adopted process (re-attach) is checked this often for its end. */
const ADOPTED_POLL_MS = 100;

/** One buffer for every read: reads are synchronous, and most steps never read (their files are empty). */
let readBuffer: Buffer | undefined;

/**
 * Reads a file a process writes its output to, from where it was last read: when notified of a change once
 * the process has run for a while, and at its end.
 */
class OutputTail {
  private fd: number | undefined;
  private offset = 0;
  private watcher: FSWatcher | undefined;

  constructor(
    private readonly file: string,
    private readonly emit: (chunk: Buffer) => void,
  ) {}

  follow(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.file, { persistent: false }, () => this.read());
      this.watcher.on("error", () => undefined);
    } catch {
      // Not watchable: the poll below still reads it.
    }
    this.read();
  }

  /** Reads what is new, up to `size` bytes into the file when known, else to its end. */
  read(size?: number): void {
    if (size !== undefined && size <= this.offset) return;
    try {
      this.fd ??= openSync(this.file, "r");
      const end = size ?? fstatSync(this.fd).size;
      const buffer = (readBuffer ??= Buffer.allocUnsafe(64 * 1024));
      while (this.offset < end) {
        const n = readSync(this.fd, buffer, 0, Math.min(buffer.length, end - this.offset), this.offset);
        if (n <= 0) break;
        this.offset += n;
        this.emit(Buffer.from(buffer.subarray(0, n)));
      }
    } catch {
      // Gone or unreadable: nothing more to read.
    }
  }

  close(size?: number): void {
    this.read(size);
    this.watcher?.close();
    this.watcher = undefined;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * One container process, started by the step supervisor as leader of its own process group so that
 * everything it starts can be signalled at once (or adopted from an earlier controller's records).
 */
export class StepProcess {
  readonly exited: Promise<ProcessExit>;
  /** When the process started, as recorded (adopted processes only). */
  recordedStart: number | undefined;
  private resolveExit!: (e: ProcessExit) => void;
  private pidValue: number | undefined;
  private done = false;
  /** A signal asked for before the supervisor said which process it started. */
  private pending: NodeJS.Signals | undefined;
  /** Drops the process from the supervisor's queue if it was not handed over yet (launched ones only). */
  private cancel: ((sig: NodeJS.Signals) => boolean) | undefined;
  private readonly tails: OutputTail[] = [];
  private timer: NodeJS.Timeout | undefined;

  /**
   * Sessions of the process's descendants (tty containers only): `script` starts the command in a session
   * of its own, which must be signalled too, also once `script` itself is gone.
   */
  private readonly sessions: Set<number> | undefined;

  private constructor(
    private readonly sandboxed: boolean,
    private readonly clock: Clock,
    options: Pick<LaunchOptions, "records" | "onStdout" | "onStderr" | "tty">,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    if (options.tty) this.sessions = new Set();
    if (options.records) {
      const base = path.join(options.records.dir, options.records.name);
      this.tails.push(new OutputTail(`${base}.out`, options.onStdout));
      this.tails.push(new OutputTail(`${base}.err`, options.onStderr));
    }
  }

  /** Has the supervisor start a process. */
  static launch(supervisor: Supervisor, options: LaunchOptions, clock: Clock): StepProcess {
    const proc = new StepProcess(options.bwrap !== undefined, clock, options);
    const argv = options.tty ? ttyArgv(options.argv) : options.argv;
    const [file, args] = options.bwrap
      ? [
          options.bwrap.path,
          [
            ...options.bwrap.args,
            "--unshare-pid",
            // The parent is the supervisor, which outlives the controller; a dead supervisor leaves no step.
            "--die-with-parent",
            "--chdir",
            options.cwd,
            "--",
            ...argv,
          ],
        ]
      : [argv[0]!, argv.slice(1)];
    const id = supervisor.run(
      {
        file,
        args,
        cwd: options.bwrap ? "/" : options.hostCwd,
        env: options.env,
        name: options.records?.name ?? "probe",
        ...(options.records?.dir ? { dir: options.records.dir } : {}),
        ...(options.records?.fresh ? { fresh: true } : {}),
        ...(options.records?.meta ? { meta: options.records.meta } : {}),
      },
      {
        started: (pid) => {
          proc.pidValue = pid;
          if (proc.pending) proc.signal(proc.pending);
          if (proc.tails.length) {
            proc.timer = setTimeout(() => proc.followOutput(), LIVE_TAIL_AFTER_MS);
            proc.timer.unref();
          }
        },
        exited: (e) => {
          let spawnError = e.error;
          if (e.errno === "ENOENT")
            spawnError = `exec: "${options.argv[0]}": executable file not found in $PATH`;
          proc.finish({ exitCode: e.exitCode, ...(spawnError ? { spawnError } : {}) }, [
            e.outBytes,
            e.errBytes,
          ]);
        },
      },
    );
    proc.cancel = (sig) => supervisor.cancel(id, sig);
    return proc;
  }

  /**
   * Follows a process an earlier controller had started, from its records: its output from the start, and
   * its end as recorded, or as it comes. A process gone with no recorded end is `lost`.
   */
  static adopt(
    status: RecordedStatus,
    options: Pick<LaunchOptions, "records" | "onStdout" | "onStderr" | "tty"> & { sandboxed: boolean },
    clock: Clock,
  ): StepProcess {
    const proc = new StepProcess(options.sandboxed, clock, options);
    proc.recordedStart = status.startedAt;
    const records = options.records!;
    const ended = (s: RecordedStatus): boolean => {
      if (!s.end) return false;
      const r: ProcessExit = { exitCode: s.end.exitCode, finishedAt: s.end.finishedAt };
      if (s.end.error) r.spawnError = s.end.error;
      proc.finish(r, [undefined, undefined]);
      return true;
    };
    if (ended(status)) return proc;
    proc.pidValue = status.pid;
    proc.followOutput();
    const check = (): void => {
      const now = readStatus(records.dir, records.name) ?? status;
      if (ended(now)) return;
      // The group may be gone a moment before the supervisor records its end; only a gone supervisor
      // means no end will ever be recorded.
      if (!groupExists(status.pid) && !processAlive(status.supervisor)) {
        if (ended(readStatus(records.dir, records.name) ?? status)) return;
        proc.finish(
          {
            exitCode: null,
            lost: `the process of container '${records.name}' is gone and no exit status was recorded (its supervisor ended while no controller ran)`,
          },
          [undefined, undefined],
        );
        return;
      }
      proc.timer = setTimeout(check, ADOPTED_POLL_MS);
    };
    check();
    return proc;
  }

  private followOutput(): void {
    if (this.done) return;
    for (const t of this.tails) t.follow();
    const poll = (): void => {
      if (this.done) return;
      for (const t of this.tails) t.read();
      this.pollTimer = setTimeout(poll, TAIL_POLL_MS);
      this.pollTimer.unref();
    };
    this.pollTimer = setTimeout(poll, TAIL_POLL_MS);
    this.pollTimer.unref();
  }

  private pollTimer: NodeJS.Timeout | undefined;

  private finish(
    exit: Omit<ProcessExit, "finishedAt"> & { finishedAt?: number },
    sizes: (number | undefined)[],
  ): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.tails.forEach((t, i) => t.close(sizes[i]));
    this.resolveExit({ ...exit, finishedAt: exit.finishedAt ?? this.clock.now() });
  }

  get pid(): number | undefined {
    return this.pidValue;
  }

  get running(): boolean {
    return !this.done;
  }

  /**
   * Signals the whole process group; a group that is already gone is fine. In a sandbox, bwrap itself is
   * spared anything but SIGKILL: it would die on SIGTERM and take the step down with SIGKILL at once, leaving
   * the step no grace period.
   */
  signal(sig: NodeJS.Signals): void {
    const pid = this.pidValue;
    if (pid === undefined) {
      // Not started yet: a process the supervisor was not asked for yet is never started.
      if (!this.done && this.cancel?.(sig)) return;
      if (!this.done && this.pending !== "SIGKILL") this.pending = sig;
      return;
    }
    const sessionMembers = this.sessionMembers(pid);
    for (const member of sessionMembers) {
      try {
        process.kill(member, sig);
      } catch {
        // already gone
      }
    }
    if (this.sandboxed && sig !== "SIGKILL") {
      const members = groupMembers(pid).filter((m) => m.comm !== "bwrap");
      // Only bwrap there: the step has not started yet (or is gone), so there is nothing to be graceful to.
      if (members.length > 0 || sessionMembers.length > 0) {
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
   * Resolves once no live process of the group is left (or after `limitMs` of real time). The supervisor
   * SIGKILLs a group when its leader exits; a killed step should end only once its members are gone.
   */
  async gone(limitMs = 1_000): Promise<void> {
    await this.exited;
    const pid = this.pidValue;
    if (pid === undefined) return;
    const until = Date.now() + limitMs;
    while ((groupMembers(pid).length > 0 || this.sessionMembers(pid).length > 0) && Date.now() < until) {
      this.signal("SIGKILL");
      await delay(5);
    }
  }

  /**
   * The live processes of the sessions the process's descendants are in, outside its own group (tty
   * containers only; none otherwise). The sessions are remembered, so that a command whose `script` is gone
   * is still found.
   */
  private sessionMembers(pid: number): number[] {
    const sessions = this.sessions;
    if (!sessions) return [];
    const table = processTable();
    const children = new Map<number, number[]>();
    for (const p of table) {
      let list = children.get(p.ppid);
      if (!list) children.set(p.ppid, (list = []));
      list.push(p.pid);
    }
    const bySid = new Map(table.map((p) => [p.pid, p.sid]));
    const todo = [...(children.get(pid) ?? [])];
    for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
      const sid = bySid.get(next);
      if (sid !== undefined && sid !== pid && sid > 0) sessions.add(sid);
      todo.push(...(children.get(next) ?? []));
    }
    return table.filter((p) => sessions.has(p.sid) && p.pgid !== pid).map((p) => p.pid);
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

/** Whether any process (a zombie too) is left in a process group. */
function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether a process runs (or is a zombie not yet reaped). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Live processes of a process group, from /proc (Linux, where bwrap runs). */
export function groupMembers(pgid: number): { pid: number; comm: string }[] {
  return processGroups().get(pgid) ?? [];
}

/**
 * Live processes by process group, from one scan of /proc shared by every caller of the same turn of the
 * event loop. Stopping a wide step set signals and polls hundreds of groups at once: a scan per call read
 * every process of the machine once per step (quadratic, and synchronous), which held the controller for
 * minutes while the steps it had not signalled yet ran on.
 */
function processGroups(): Map<number, { pid: number; comm: string }[]> {
  return scanProcesses().groups;
}

/** Every live process with its parent, group and session, from the same scan as `processGroups`. */
function processTable(): ProcessInfo[] {
  return scanProcesses().table;
}

interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
}

function scanProcesses(): ProcessScan {
  if (scan) return scan;
  const groups = new Map<number, { pid: number; comm: string }[]>();
  const table: ProcessInfo[] = [];
  scan = { groups, table };
  const result = scan;
  setImmediate(() => (scan = undefined));
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return result;
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
    if (fields[0] === "Z") continue;
    const pgid = Number(fields[2]);
    let list = groups.get(pgid);
    if (!list) groups.set(pgid, (list = []));
    list.push({ pid: Number(name), comm: stat.slice(stat.indexOf("(") + 1, close) });
    table.push({ pid: Number(name), ppid: Number(fields[1]), pgid, sid: Number(fields[3]) });
  }
  return result;
}

interface ProcessScan {
  groups: Map<number, { pid: number; comm: string }[]>;
  table: ProcessInfo[];
}

let scan: ProcessScan | undefined;

/**
 * A tty container's command line: util-linux `script` gives the command a pseudo-terminal (stdin, stdout and
 * stderr on it, as Docker's `tty: true` does), copies what it writes to `script`'s own stdout (`-f`: at once),
 * keeps no typescript (`/dev/null`) and exits with the command's code (`-e`). `-c` takes one command line for
 * `$SHELL`: the argv is quoted, and `exec` leaves no shell between `script` and the command.
 */
export function ttyArgv(argv: readonly string[]): string[] {
  const line = argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  // Without `onlcr` the terminal passes "\n" on as it is: log lines and `outputs.result` carry no "\r".
  return ["script", "-qfec", `stty -onlcr 2>/dev/null; exec ${line}`, "/dev/null"];
}
