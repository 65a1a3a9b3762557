import { watch, type FSWatcher } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { defineErrorCodes, SkiffError } from "../../runtime/errors/index.js";
import type { Workflow } from "../../runtime/spec/types.js";

export const CONTROL_CODES = defineErrorCodes({
  "SKF-RUN-003": {
    title: "Unknown workflow",
    hint: "Run `skiff list` to see the workflows this machine knows (names are those printed by `skiff run`).",
  },
  "SKF-RUN-004": {
    title: "Workflow is not running",
    hint: "Only a workflow whose `skiff run` is still going can be resumed, suspended or stopped.",
  },
});

/** A command another `skiff` process sends to a running workflow. */
export interface ControlCommand {
  action: "resume" | "suspend" | "stop" | "terminate" | "set";
  nodeFieldSelector?: string;
  outputParameters?: Record<string, string>;
}

/**
 * The folder of one workflow run: `workflow.json` (the latest snapshot, written atomically) and
 * `commands/` (files other processes drop to resume, stop... the run). Snapshots are throttled so that a
 * 10,000-node workflow does not write megabytes per transition.
 */
export class RunDirectory {
  readonly dir: string;
  private pending: Workflow | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    root: string,
    readonly namespace: string,
    readonly name: string,
    private readonly throttleMs = 500,
  ) {
    this.dir = join(root, namespace, name);
  }

  get commandsDir(): string {
    return join(this.dir, "commands");
  }

  async create(): Promise<void> {
    await mkdir(this.commandsDir, { recursive: true });
    await writeFile(join(this.dir, "pid"), String(process.pid));
  }

  scheduleSnapshot(wf: Workflow): void {
    this.pending = wf;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const w = this.pending;
      this.pending = undefined;
      if (w) void this.writeSnapshot(w).catch(() => undefined);
    }, this.throttleMs);
    this.timer.unref?.();
  }

  /** Writes the snapshot atomically (temp file + rename). */
  writeSnapshot(wf: Workflow): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.pending = undefined;
    const text = JSON.stringify(wf);
    this.writing = this.writing.then(async () => {
      const tmp = join(this.dir, `.workflow.json.${process.pid}.tmp`);
      await writeFile(tmp, text);
      await rename(tmp, join(this.dir, "workflow.json"));
    });
    return this.writing;
  }

  /** Calls `onCommand` for every command file dropped in `commands/` (and removes it). */
  watchCommands(onCommand: (c: ControlCommand) => void): () => void {
    let closed = false;
    const drain = async () => {
      let files: string[];
      try {
        files = (await readdir(this.commandsDir)).filter((f) => f.endsWith(".json")).sort();
      } catch {
        return;
      }
      for (const f of files) {
        const p = join(this.commandsDir, f);
        try {
          const cmd = JSON.parse(await readFile(p, "utf8")) as ControlCommand;
          await rm(p, { force: true });
          if (!closed) onCommand(cmd);
        } catch {
          await rm(p, { force: true }).catch(() => undefined);
        }
      }
    };
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(this.commandsDir, () => void drain());
    } catch {
      watcher = undefined;
    }
    // fs.watch can miss events on some filesystems; a slow poll backs it up.
    const poll = setInterval(() => void drain(), 1000);
    poll.unref?.();
    void drain();
    return () => {
      closed = true;
      watcher?.close();
      clearInterval(poll);
    };
  }
}

/** Reads the latest snapshot of a run. */
export async function readRun(root: string, namespace: string, name: string): Promise<Workflow> {
  try {
    return JSON.parse(await readFile(join(root, namespace, name, "workflow.json"), "utf8")) as Workflow;
  } catch {
    throw new SkiffError("SKF-RUN-003", `workflow ${namespace}/${name} not found`);
  }
}

/** Lists the runs this state folder knows. */
export async function listRuns(root: string, namespace?: string): Promise<Workflow[]> {
  const out: Workflow[] = [];
  let namespaces: string[];
  try {
    namespaces = namespace ? [namespace] : await readdir(root);
  } catch {
    return out;
  }
  for (const ns of namespaces) {
    let names: string[] = [];
    try {
      names = await readdir(join(root, ns));
    } catch {
      continue;
    }
    for (const n of names) {
      try {
        out.push(await readRun(root, ns, n));
      } catch {
        // a run whose first snapshot is not written yet
      }
    }
  }
  return out;
}

/** Sends a command to a running workflow; fails when its `skiff run` is gone. */
export async function sendCommand(
  root: string,
  namespace: string,
  name: string,
  cmd: ControlCommand,
): Promise<void> {
  const wf = await readRun(root, namespace, name);
  const dir = join(root, namespace, name);
  let alive = false;
  try {
    const pid = Number(await readFile(join(dir, "pid"), "utf8"));
    process.kill(pid, 0);
    alive = true;
  } catch {
    alive = false;
  }
  const phase = wf.status?.phase;
  if (!alive || phase === "Succeeded" || phase === "Failed" || phase === "Error") {
    throw new SkiffError("SKF-RUN-004", `workflow ${name} is not running (phase ${phase || "unknown"})`);
  }
  const file = join(dir, "commands", `${Date.now()}-${process.pid}-${cmd.action}.json`);
  await writeFile(file + ".tmp", JSON.stringify(cmd));
  await rename(file + ".tmp", file);
}
