import { spawn, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { constants as osConstants } from "node:os";
import { SUPERVISOR_SOURCE } from "./supervisor-script.js";

/** What the supervisor starts: a command in its own process group, output to files of a records folder. */
export interface SupervisedCommand {
  file: string;
  args: readonly string[];
  /** Host working directory of the started process. */
  cwd: string;
  env: Record<string, string>;
  /** The step's records folder (`<name>.out`, `.err`, `.status`); undefined sends output to /dev/null. */
  dir?: string;
  /** Container name: the records' file names. */
  name: string;
  /** Empty the records folder first (the step's first process). */
  fresh?: boolean;
  /** Written to `step.json` in the records folder. */
  meta?: string;
}

/** How a supervised process ended, as the supervisor saw it. */
export interface SupervisedExit {
  exitCode: number | null;
  /** Bytes the process wrote to its stdout and stderr files; undefined when unknown. */
  outBytes?: number;
  errBytes?: number;
  /** Set when the process could not be started; `errno` is its code (e.g. `ENOENT`). */
  error?: string;
  errno?: string;
}

/** Callbacks of one supervised process. */
export interface SupervisedListener {
  started(pid: number): void;
  exited(exit: SupervisedExit): void;
}

interface Reply {
  id: number;
  pid?: number;
  exit?: number | null;
  out?: number;
  err?: number;
  error?: string;
  code?: string;
}

/**
 * The executor's side of the step supervisor (`supervisor-script.ts`): a small Node process started once,
 * on first use, in its own session, that starts step processes on the executor's behalf. Forking the
 * controller (hundreds of MB) for every step costs several times more than forking the supervisor, and
 * steps started by it outlive a controller that is killed, their ends recorded in their records folders.
 */
/** Commands handed to the supervisor and not started yet, at most (see `Supervisor.flush`). */
const MAX_IN_FLIGHT = 16;

export class Supervisor {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly listeners = new Map<number, SupervisedListener>();
  private buffered = "";
  private refs = 0;
  /** Commands not handed to the supervisor yet, in order, by id. */
  private readonly queue = new Map<number, string>();
  /** Commands handed over whose start the supervisor has not reported yet. */
  private readonly inFlight = new Set<number>();

  /** The supervisor's process ID, starting it if it is not running. */
  get pid(): number {
    return this.ensure().pid!;
  }

  /**
   * Starts a command; `listener` hears of its start and its end (always, even if the supervisor dies).
   * Returns the command's id, for `cancel`.
   */
  run(command: SupervisedCommand, listener: SupervisedListener): number {
    this.ensure();
    const id = this.nextId++;
    this.listeners.set(id, listener);
    this.hold(1);
    const message: Record<string, unknown> = {
      op: "run",
      id,
      name: command.name,
      file: command.file,
      args: command.args,
      cwd: command.cwd,
      env: command.env,
    };
    if (command.dir) message.dir = command.dir;
    if (command.fresh) message.fresh = true;
    if (command.meta) message.meta = command.meta;
    this.queue.set(id, JSON.stringify(message) + "\n");
    this.flush();
    return id;
  }

  /**
   * Drops a command the supervisor was not asked to start yet: its listener hears of its end (exit code
   * 128 + the signal's number, as a container killed before it ran) and `true` is returned. A command
   * already handed over is the caller's to signal once its `started` says which process it is.
   */
  cancel(id: number, signal: NodeJS.Signals): boolean {
    if (!this.queue.delete(id)) return false;
    const listener = this.listeners.get(id);
    this.listeners.delete(id);
    this.hold(-1);
    listener?.exited({ exitCode: 128 + (osConstants.signals[signal] ?? 9), outBytes: 0, errBytes: 0 });
    return true;
  }

  /**
   * Hands queued commands over while fewer than `MAX_IN_FLIGHT` wait for their start: the supervisor starts
   * them one after another, so a wide step set stopped while it starts must not find hundreds already
   * written to the supervisor's pipe, which it would start before it could hear they are not wanted.
   */
  private flush(): void {
    const child = this.child;
    if (!child) return;
    for (const [id, line] of this.queue) {
      if (this.inFlight.size >= MAX_IN_FLIGHT) break;
      this.queue.delete(id);
      this.inFlight.add(id);
      child.stdin!.write(line);
    }
  }

  /** Removes a folder in the supervisor's process (off this thread); nothing if no supervisor runs. */
  remove(dir: string): void {
    this.child?.stdin!.write(JSON.stringify({ op: "rm", path: dir }) + "\n");
  }

  /**
   * Lets the supervisor go: with `kill`, it SIGKILLs every group it still runs; without, running steps
   * carry on and it exits after them. Resolves once it has exited (with `kill`) or at once.
   */
  async close(kill: boolean): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
    if (!kill) {
      // Let go, not stopped: what was asked for still starts.
      for (const line of this.queue.values()) child.stdin!.write(line);
      this.queue.clear();
    }
    if (kill) {
      for (const id of [...this.queue.keys()]) this.cancel(id, "SIGKILL");
      child.stdin!.write(JSON.stringify({ op: "quit" }) + "\n");
      // Waited for: its exit must keep this process alive until then.
      child.ref();
    }
    child.stdin!.end();
    if (kill) await exited;
  }

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(
      process.execPath,
      ["--max-old-space-size=32", "--max-semi-space-size=1", "-e", SUPERVISOR_SOURCE],
      // Its own session: a terminal's Ctrl-C or the controller's death does not reach it or its steps.
      { detached: true, stdio: ["pipe", "pipe", "ignore"], env: {} },
    );
    this.child = child;
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => this.receive(chunk));
    child.stdin!.on("error", () => undefined);
    child.on("error", () => this.lost(child));
    child.on("exit", () => this.lost(child));
    // Nothing running: the supervisor must not keep the controller alive.
    this.refs = 0;
    this.setRef(child, false);
    return child;
  }

  private receive(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const reply = JSON.parse(line) as Reply;
      if (this.inFlight.delete(reply.id)) this.flush();
      const listener = this.listeners.get(reply.id);
      if (!listener) continue;
      if (reply.pid !== undefined) {
        listener.started(reply.pid);
        continue;
      }
      this.listeners.delete(reply.id);
      this.hold(-1);
      const exit: SupervisedExit = { exitCode: reply.exit ?? null };
      if (reply.out !== undefined) exit.outBytes = reply.out;
      if (reply.err !== undefined) exit.errBytes = reply.err;
      if (reply.error !== undefined) exit.error = reply.error;
      if (reply.code !== undefined) exit.errno = reply.code;
      listener.exited(exit);
    }
  }

  /** The supervisor died under its steps: they are ended with no exit code. */
  private lost(child: ChildProcess): void {
    // A supervisor let go by `close` ends after its steps; the listeners are a newer one's by then.
    if (this.child !== child) return;
    this.child = undefined;
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    this.queue.clear();
    this.inFlight.clear();
    this.refs = 0;
    for (const l of listeners) {
      l.exited({ exitCode: null, error: "the step supervisor exited" });
    }
  }

  private hold(delta: number): void {
    const before = this.refs;
    this.refs += delta;
    const child = this.child;
    if (!child) return;
    if (before === 0 && this.refs > 0) this.setRef(child, true);
    else if (before > 0 && this.refs === 0) this.setRef(child, false);
  }

  private setRef(child: ChildProcess, ref: boolean): void {
    const streams = [child.stdin, child.stdout] as unknown as (Socket | null)[];
    for (const s of streams) {
      if (ref) s?.ref();
      else s?.unref();
    }
    if (ref) child.ref();
    else child.unref();
  }
}
