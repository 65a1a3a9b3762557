import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  type ContainerExit,
  type ContainerOutput,
  EXEC_CODES,
  type Pod,
  type PodFiles,
  type PodStep,
  type RunningContainer,
  SCRIPT_PATH,
  type VolumeMountPlan,
} from "../shared/index.js";
import type { HostContainer, HostRuntime } from "./host.js";
import { groupMembers, readStatus, StepProcess } from "./process.js";
import { isWithin, type SandboxLayout } from "./sandbox.js";

/** What a step's `step.json` record holds: where its sandbox folders are, for a later `attach`. */
export interface StepMeta {
  dir: string;
  rootFsDir?: string;
}

/**
 * One step's processes on the host: its folders, its sandbox layout and its records (each process's output
 * and exit status, kept so that a later controller can re-attach).
 */
export class HostPod implements Pod<HostContainer> {
  readonly startedAt?: number;
  lost: string | undefined;
  private readonly processes = new Set<StepProcess>();
  /** Whether a process of the step was started yet (the first one empties the records folder). */
  private processStarted = false;
  /** Host paths Skiff made for this step without a sandbox, removed when it ends (see `noteCreated`). */
  private readonly created: string[] = [];
  /** `step.json` for the records (where the step's folders are), written with its first process. */
  private meta: string | undefined;
  private dir: string | undefined;
  /** The sandbox's root folder, when it lives apart from the step folder (`layoutDir`). */
  private rootFsDir: string | undefined;
  private root = "";
  private layout!: SandboxLayout;

  constructor(
    private readonly runtime: HostRuntime,
    private readonly step: PodStep<HostContainer>,
    /** The step's records folder: its processes' output and exit status (see `recordsDir`). */
    private readonly records: string,
    /** Set when the step was started by an earlier controller (`attach`): recorded containers are adopted. */
    readonly adopted: boolean,
  ) {
    if (adopted) {
      const first = firstRecordedStart(records);
      if (first !== undefined) this.startedAt = first;
    }
  }

  async open(): Promise<PodFiles> {
    const { request, kind, plans } = this.step;
    const sandboxed = this.runtime.sandboxed;
    // A step folder costs a mkdtemp and a removal; without a sandbox most steps need none.
    const outputArtifacts = (request.template.outputs?.artifacts ?? []).length > 0;
    const inputArtifacts = request.inputArtifacts.some((a) => a.path !== undefined);
    const needsDir = sandboxed || kind === "script" || inputArtifacts || outputArtifacts;
    let dir = "";
    if (this.adopted) {
      // The folders the earlier controller made, as its first process recorded them.
      const meta = readMeta(this.records);
      if (needsDir && !meta) throw new Error("the step's records do not say where its folders are");
      if (meta) {
        dir = this.dir = meta.dir;
        if (meta.rootFsDir) this.rootFsDir = meta.rootFsDir;
      }
    } else {
      dir = needsDir ? await this.stepDir() : "";
      const layoutDir = this.runtime.settings.layoutDir;
      if (sandboxed && layoutDir) {
        this.rootFsDir = await mkdtemp(path.join(await this.runtime.layoutRoot(layoutDir), "fs-"));
      }
    }
    this.root = sandboxed ? await this.runtime.workRoot() : "";
    if (dir && !this.adopted) {
      const meta: StepMeta = { dir };
      if (this.rootFsDir) meta.rootFsDir = this.rootFsDir;
      this.meta = JSON.stringify(meta);
    }
    const scratchDir = path.join(dir, "scratch");
    if (inputArtifacts || outputArtifacts) await mkdir(scratchDir, { recursive: true });
    const layout = this.runtime.layoutFor(this.step, this.rootFsDir, this.root, dir);
    this.layout = layout;
    if (kind === "script" && !layout.sandboxed) {
      const main = plans.find((p) => p.role === "main")!;
      main.argv[main.argv.length - 1] = layout.hostPath(SCRIPT_PATH);
    }
    // The workspace is shared by every step and outlives the run: what the template's outputs name in it (a
    // Pipeline's `artifacts: {dist: dist}`) belongs to this step's container, as it would in a pod, and goes
    // once its outputs were read, unless it was there before the step.
    const workspace = this.step.request.workspace ? path.resolve(this.step.request.workspace) : undefined;
    const inWorkspace = (host: string): boolean => workspace !== undefined && isWithin(workspace, host);
    if (!this.adopted) {
      for (const p of outputPathsOf(request.template)) {
        const host = layout.hostPath(p);
        if (inWorkspace(host) && host !== workspace) this.noteCreated(host);
      }
    }
    // Without a sandbox an input lands at its host path, and in the workspace with one: what it creates
    // there goes after the step.
    return {
      inputPath: (p) => {
        const host = layout.hostPath(p);
        if (!layout.sandboxed || (inWorkspace(host) && host !== workspace)) this.noteCreated(host);
        return host;
      },
      scratchDir,
    };
  }

  /**
   * Remembers the outermost missing folder of `p` (or `p` itself), which Skiff or the step is about to create
   * at a shared host path (any path without a sandbox, the workspace with one): it is removed when the step
   * ends, so that nothing made for a step (`/mnt/out`, input files, configMap/secret files, its outputs in
   * the workspace) stays outside the step's folder.
   */
  private noteCreated(p: string): void {
    let top: string | undefined;
    for (let cur = path.resolve(p); !existsSync(cur); cur = path.dirname(cur)) {
      top = cur;
      if (path.dirname(cur) === cur) break;
    }
    if (top && !this.created.includes(top)) this.created.push(top);
  }

  /** Writes the files of `configMap`/`secret` volumes where the step will see them. */
  async prepareVolumes(): Promise<void> {
    const layout = this.layout;
    for (const v of this.step.volumes) {
      if (v.source.kind === "files") {
        // In a sandbox the files go to the volume's folder; without one, to the mount path itself.
        const base = layout.sandboxed ? this.volumeHostPath(v) : v.mountPath;
        if (!layout.sandboxed) this.noteCreated(base);
        await mkdir(base, { recursive: true });
        for (const f of v.source.files) {
          const file = path.join(base, f.path);
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, f.content, { mode: f.mode });
          await chmod(file, f.mode);
        }
      } else if (!layout.sandboxed) {
        // A fresh folder of the step (emptyDir) goes with it; claims and hostPaths are shared and stay.
        if (v.source.kind === "step") this.noteCreated(v.mountPath);
        await mkdir(v.mountPath, { recursive: true }).catch(() => undefined);
      }
    }
  }

  async inputsPlaced(): Promise<void> {
    const layout = this.layout;
    for (const p of this.step.plans) {
      // The workspace and `/` exist; only a `workingDir` may need making, as the container runtime does.
      if (p.spec.workingDir === undefined) continue;
      if (layout.isPrivate(p.cwd) || !layout.sandboxed)
        await mkdir(layout.hostPath(p.cwd), { recursive: true }).catch(() => undefined);
    }
  }

  private volumeHostPath(v: VolumeMountPlan): string {
    return this.runtime.volumeHostPath(this.step.request, this.root, this.dir ?? "", v);
  }

  async start(plan: HostContainer, output: ContainerOutput): Promise<RunningContainer> {
    const clock = this.runtime.clock;
    const bwrapPath = this.runtime.settings.bwrapPath;
    let sandboxError: string | undefined;
    // `tty: true` runs the process on a pseudo-terminal of util-linux `script` (process.ts, `ttyArgv`). Where
    // `script` is missing, say so where the step's output is read, rather than let a tool that checks for a
    // terminal behave differently unannounced.
    const tty = plan.spec.tty === true && ttyAvailable(plan.env.PATH ?? "");
    if (plan.spec.tty === true && !tty && !this.adopted) output.stderr(Buffer.from(`${TTY_WARNING}\n`));
    // bwrap's own complaints (a mount it could not make) explain a failure better than the exit code.
    if (bwrapPath) {
      output.watchStderr((text) => {
        if (sandboxError === undefined && text.startsWith("bwrap: ")) sandboxError = text;
      });
    }
    let startedAt = clock.now();
    const onStdout = (c: Buffer): void => output.stdout(c);
    const onStderr = (c: Buffer): void => output.stderr(c);
    const recorded = this.adopted ? readStatus(this.records, plan.name) : undefined;
    let proc: StepProcess;
    if (recorded) {
      startedAt = recorded.startedAt;
      proc = StepProcess.adopt(
        recorded,
        {
          records: { dir: this.records, name: plan.name },
          onStdout,
          onStderr,
          sandboxed: this.runtime.sandboxed,
          tty,
        },
        clock,
      );
    } else {
      const records: { dir: string; name: string; fresh?: boolean; meta?: string } = {
        dir: this.records,
        name: plan.name,
      };
      if (!this.processStarted && !this.adopted) {
        records.fresh = true;
        if (this.meta) records.meta = this.meta;
        // Before the supervisor is asked: a later controller that finds this and no status from the named
        // supervisor (gone) knows the step never started (`HostRuntime.find`).
        mkdirSync(path.dirname(this.records), { recursive: true });
        writeFileSync(`${this.records}.launch`, JSON.stringify({ supervisor: this.runtime.supervisor.pid }));
        // Whose records these are: a later executor removes a killed run's records once it cannot be resumed.
        const { namespace, workflowName: name, workflowUid: uid } = this.step.request;
        const owner = path.join(path.dirname(this.records), "workflow.json");
        if (!existsSync(owner)) writeFileSync(owner, JSON.stringify({ namespace, name, uid }));
      }
      this.processStarted = true;
      proc = StepProcess.launch(
        this.runtime.supervisor,
        {
          argv: plan.argv,
          env: plan.env,
          cwd: plan.cwd,
          hostCwd: this.layout.hostPath(plan.cwd),
          ...(bwrapPath ? { bwrap: { path: bwrapPath, args: this.layout.args } } : {}),
          records,
          onStdout,
          onStderr,
          tty,
        },
        clock,
      );
    }
    this.processes.add(proc);
    const done = proc.exited.then(async (exit): Promise<ContainerExit> => {
      output.end();
      // A stopped container ends once its processes are gone, not only their pipes (a killed pod is reported
      // once its containers are); containers that ended on their own skip the /proc scan.
      if (this.step.stop) await proc.gone();
      this.processes.delete(proc);
      if (exit.lost) this.lost ??= exit.lost;
      const detail = exit.spawnError ?? (exit.exitCode !== 0 ? sandboxError : undefined);
      const x: ContainerExit = { exitCode: exit.exitCode, startedAt, finishedAt: exit.finishedAt };
      if (detail) x.detail = detail;
      return x;
    });
    const grace = this.runtime.settings.killGracePeriodMs;
    return { done, terminate: () => void proc.terminate(grace) };
  }

  async stop(): Promise<void> {
    const grace = this.runtime.settings.killGracePeriodMs;
    await Promise.all([...this.processes].map((p) => p.terminate(grace)));
  }

  killNow(): void {
    for (const p of this.processes) p.signal("SIGKILL");
  }

  async outputPath(): Promise<(containerPath: string) => string> {
    const layout = this.layout;
    return (p) => layout.hostPath(p);
  }

  async address(): Promise<string> {
    return "127.0.0.1";
  }

  async exec(main: HostContainer, _running: RunningContainer, command: string[]): Promise<boolean> {
    const bwrapPath = this.runtime.settings.bwrapPath;
    const proc = StepProcess.launch(
      this.runtime.supervisor,
      {
        argv: command,
        env: main.env,
        cwd: main.cwd,
        hostCwd: this.layout.hostPath(main.cwd),
        ...(bwrapPath ? { bwrap: { path: bwrapPath, args: this.layout.args } } : {}),
        onStdout: () => undefined,
        onStderr: () => undefined,
      },
      this.runtime.clock,
    );
    this.processes.add(proc);
    const exit = await proc.exited;
    this.processes.delete(proc);
    return exit.exitCode === 0;
  }

  dataScratchDir(): Promise<string> {
    return this.stepDir();
  }

  private async stepDir(): Promise<string> {
    this.dir ??= await this.runtime.stepDir(this.step.request.podName);
    return this.dir;
  }

  async release(): Promise<void> {
    for (const p of this.processes) p.signal("SIGKILL");
    await Promise.all([...this.processes].map((p) => p.exited));
    // An attached step stopped before its recorded processes were taken over still has them running.
    if (this.adopted) await killRecordedGroups(this.records);
    for (const p of this.created.splice(0))
      await rm(p, { recursive: true, force: true }).catch(() => undefined);
    if (this.runtime.settings.keepStepDirs) return;
    // An attached step's folder belongs to the earlier executor's root: it is never kept for reuse.
    if (this.dir) await this.runtime.releaseStepDir(this.dir, !this.adopted);
    // On a tmpfs, removing at once is cheaper than the many awaited calls of an asynchronous removal.
    if (this.rootFsDir) removeNow(this.rootFsDir);
  }

  forget(): void {
    this.runtime.retireRecords(this.records);
  }
}

/** The paths a template's outputs are read from (output artifacts and `valueFrom.path` parameters). */
function outputPathsOf(t: PodStep<HostContainer>["request"]["template"]): string[] {
  const paths: string[] = [];
  for (const a of t.outputs?.artifacts ?? []) if (a.path) paths.push(a.path);
  for (const p of t.outputs?.parameters ?? []) if (p.valueFrom?.path) paths.push(p.valueFrom.path);
  return paths;
}

export function removeNow(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // Left for the OS to clear (a tmpfs does at reboot).
  }
}

/** Where a step's folders are, from its records (`step.json`). */
function readMeta(records: string): StepMeta | undefined {
  try {
    return JSON.parse(readFileSync(path.join(records, "step.json"), "utf8")) as StepMeta;
  } catch {
    return undefined;
  }
}

/** The earliest recorded start of a step's processes. */
function firstRecordedStart(records: string): number | undefined {
  let first: number | undefined;
  let names: string[];
  try {
    names = readdirSync(records);
  } catch {
    return undefined;
  }
  for (const n of names) {
    if (!n.endsWith(".status")) continue;
    const s = readStatus(records, n.slice(0, -".status".length));
    if (s && (first === undefined || s.startedAt < first)) first = s.startedAt;
  }
  return first;
}

/** SIGKILLs the groups of a step's recorded processes that have no recorded end, and waits until they are gone. */
async function killRecordedGroups(records: string): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(records);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.endsWith(".status")) continue;
    const s = readStatus(records, n.slice(0, -".status".length));
    if (!s || s.end) continue;
    for (let i = 0; i < 200 && groupMembers(s.pid).length > 0; i++) {
      try {
        process.kill(-s.pid, "SIGKILL");
      } catch {
        // gone
      }
      await delay(5);
    }
  }
}

/** The line a `tty: true` container's log starts with where util-linux `script` is not installed. */
export const TTY_WARNING =
  `${EXEC_CODES["SKF-EXEC-012"]} warning: tty: true is not provided on this host (util-linux script is not ` +
  "installed); the step's stdout and stderr are files, not a terminal";

const ttyChecks = new Map<string, boolean>();

/** Whether util-linux `script`, which gives tty containers their terminal, is on the step's PATH. */
function ttyAvailable(envPath: string): boolean {
  let ok = ttyChecks.get(envPath);
  if (ok === undefined) {
    ok = envPath.split(":").some((d) => d !== "" && existsSync(path.join(d, "script")));
    ttyChecks.set(envPath, ok);
  }
  return ok;
}
