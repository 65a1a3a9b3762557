import {
  accessSync,
  constants as fsConstants,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rm, rmdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { SkiffError } from "../../errors/index.js";
import type { ArtifactRepository } from "../../interfaces/artifacts.js";
import type { Clock } from "../../interfaces/clock.js";
import type {
  ContainerResult,
  DaemonReady,
  Executor,
  ExecutorCapabilities,
  LogLine,
  StepHandle,
  StepRequest,
  StepResult,
} from "../../interfaces/executor.js";
import { templateTypeOf, type Container, type K8sObject, type TemplateType } from "../../spec/types.js";
import { EXEC_CODES } from "../shared/codes.js";
import { planPodContainers } from "../shared/containers.js";
import { runDataStep } from "../shared/data.js";
import { runHttpStep } from "../shared/http.js";
import { containerArgv, findImageConfig, type ImageConfig, type ImagesConfig } from "../shared/images.js";
import { InputLoadError, loadInputArtifacts } from "../shared/inputs.js";
import { LineSplitter, LogStream } from "../shared/logs.js";
import { collectOutputParameters, OutputCollectionError, saveOutputArtifacts } from "../shared/outputs.js";
import {
  containerFailureMessage,
  containerResultOf,
  DEADLINE_MESSAGE,
  isIgnoredSidecarExit,
  TailBuffer,
} from "../shared/result.js";
import { groupMembers, processAlive, readStatus, StepProcess, type ProcessExit } from "./process.js";
import {
  createBwrapLayout,
  createHostLayout,
  HostView,
  type Bind,
  type NamedPath,
  type SandboxLayout,
} from "./sandbox.js";
import { Supervisor } from "./supervisor.js";
import { planVolumeMounts, type VolumeMountPlan } from "../shared/volumes.js";

/** Host environment variables a step inherits unless told otherwise. Secrets in the host env stay out. */
export const DEFAULT_INHERITED_ENV = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "LC_ALL",
  "TZ",
  "TERM",
  "SHELL",
];

/** The executor's resolved settings. */
export interface HostSettings {
  images: ImagesConfig;
  /** bwrap binary when steps are sandboxed, undefined when they run directly on the host. */
  bwrapPath: string | undefined;
  workDir: string;
  clock: Clock;
  killGracePeriodMs: number;
  inheritEnv: string[];
  readinessPollMs: number;
  keepStepDirs: boolean;
  /** Host folders bound read-write into every sandbox (absolute paths). */
  writablePaths: string[];
  /**
   * Where sandboxes' root folders are made (a tmpfs makes their many small folders, symlinks and mount points
   * cheap); undefined to make them in the step folder.
   */
  layoutDir?: string;
  /** PEM certificates HTTP steps trust besides the system's roots. */
  extraCACerts?: string;
  /** Where claims that the workflow did not create (existing PVCs) keep their contents, across workflows. */
  volumesDir: string;
  /** Where steps' records are made (see `HostExecutorOptions.recordsDir`). */
  recordsDir: string;
}

/** Argo writes a script's `source` here; the sandbox puts it at the same place. */
const SCRIPT_DIR = "/argo/staging";

type StopCause = { kind: "deadline" } | { kind: "kill"; reason: string };

interface ContainerPlan {
  name: string;
  role: "init" | "main" | "sidecar" | "set";
  container: Container;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  dependencies: string[];
}

interface StepState {
  readonly handle: StepHandle;
  readonly request: StepRequest;
  readonly logs: LogStream;
  readonly processes: Set<StepProcess>;
  /** The step's records folder: its processes' output and exit status (see `recordsDir`). */
  readonly records: string;
  /** Set when the step was started by an earlier controller (`attach`): recorded containers are adopted. */
  readonly adopting: boolean;
  /** Whether a process of the step was started yet (the first one empties the records folder). */
  launched?: boolean;
  /** Why the step is lost: a process of it is gone with no recorded end. */
  lost?: string;
  /** Made on first use (HTTP steps, readiness probes): aborting one costs an exception with a stack. */
  abort?: AbortController;
  /** `step.json` for the records (where the step's folders are), written with its first process. */
  meta?: string;
  /** Set once the step's processes are gone: a signal asked for later starts aborted. */
  finished?: boolean;
  readonly volumes: VolumeMountPlan[];
  dir?: string;
  /** The sandbox's root folder, when it lives apart from the step folder (`layoutDir`). */
  rootFsDir?: string;
  stop?: StopCause;
  result: Promise<StepResult>;
  ready: Promise<DaemonReady>;
  resolveReady(r: DaemonReady): void;
  rejectReady(e: unknown): void;
}

type RunnableType = "container" | "script" | "containerSet" | "http" | "data";
const RUNNABLE: ReadonlySet<TemplateType> = new Set<RunnableType>([
  "container",
  "script",
  "containerSet",
  "http",
  "data",
]);

let nextStepId = 1;

/** How long layouts trust what they read of the host (new host folders show up in steps after this). */
const HOST_VIEW_MAX_AGE_MS = 5_000;

/** Clean step folders kept for reuse, at most (making and removing folders on disk costs more than a look). */
const MAX_SPARE_DIRS = 4;

/** Step folders being removed at once, at most. */
const MAX_PENDING_REMOVALS = 4;

/**
 * How long a step's records stay after its result was handed over: a controller killed before it stored the
 * result finds them on resume. Storing a result takes milliseconds.
 */
const RECORDS_RETENTION_MS = 10_000;

/** What a step's `step.json` record holds: where its sandbox folders are, for a later `attach`. */
interface StepMeta {
  dir: string;
  rootFsDir?: string;
}

/** Runs leaf steps as host processes; see README.md beside this file. */
export class HostExecutor implements Executor {
  readonly name = "host";
  readonly capabilities: ExecutorCapabilities = { resource: false, containers: false };
  private readonly steps = new Map<string, StepState>();
  private readonly host = hostname();
  private rootDir: Promise<string> | undefined;
  private readonly removals = new Set<Promise<void>>();
  private layoutDir: Promise<string> | undefined;
  /** Step folders a step left as it found them (empty /tmp and /var/tmp), ready for the next step. */
  private readonly spareDirs: string[] = [];
  private hostView: { view: HostView; readAt: number } | undefined;
  /** Commands found on a PATH, by `PATH\0command`; only hits are kept, so a tool installed later is found. */
  private readonly foundCommands = new Set<string>();
  /** Starts every step process (see supervisor.ts). */
  private readonly supervisor = new Supervisor();
  /** Records folders of steps whose results were handed over, oldest first, removed after a while. */
  private readonly doneRecords: { dir: string; at: number }[] = [];
  /** Records folders of the workflows this executor ran steps of (removed by `cleanup`). */
  private readonly workflowRecords = new Set<string>();

  constructor(private readonly settings: HostSettings) {}

  /** Whether steps run in a bubblewrap sandbox. */
  get sandboxed(): boolean {
    return this.settings.bwrapPath !== undefined;
  }

  async start(request: StepRequest): Promise<StepHandle> {
    const type = templateTypeOf(request.template);
    if (!type || !RUNNABLE.has(type)) {
      throw new SkiffError(
        EXEC_CODES["SKF-EXEC-003"],
        `template '${request.templateName}' is a ${type ?? "template without a runnable block"}, which the host executor cannot run`,
      );
    }
    return this.begin(request, type as RunnableType, false);
  }

  /**
   * Follows a step an earlier controller of the workflow started (crash recovery), found by its records
   * folder: containers that ended while no controller ran are taken as recorded, running ones are followed,
   * and the step goes on from there (a sidecar or main after recorded init containers starts now). A step with
   * no record of a started process is not there to attach to; one whose process is gone without a recorded
   * end is an Error.
   */
  async attach(request: StepRequest): Promise<StepHandle | undefined> {
    const type = templateTypeOf(request.template);
    if (!type || !RUNNABLE.has(type) || type === "http" || type === "data") return undefined;
    const dir = this.recordsDir(request);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return undefined;
    }
    if (!names.some((n) => n.endsWith(".status"))) return undefined;
    return this.begin(request, type as RunnableType, true);
  }

  private begin(request: StepRequest, kind: RunnableType, adopting: boolean): StepHandle {
    const plans = kind === "http" || kind === "data" ? [] : this.planContainers(request, kind);
    const volumes = planVolumeMounts(request, [
      ...((request.template.containerSet?.volumeMounts ?? []) as K8sObject[]),
      ...plans.flatMap((p) => (p.container.volumeMounts ?? []) as K8sObject[]),
    ]);
    const handle: StepHandle = { id: `host-${nextStepId++}`, nodeId: request.nodeId };
    let resolveReady!: (r: DaemonReady) => void;
    let rejectReady!: (e: unknown) => void;
    const ready = new Promise<DaemonReady>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    ready.catch(() => undefined);
    const state: StepState = {
      handle,
      request,
      logs: new LogStream(),
      processes: new Set(),
      records: this.recordsDir(request),
      adopting,
      volumes,
      result: Promise.resolve(undefined as unknown as StepResult),
      ready,
      resolveReady,
      rejectReady,
    };
    this.steps.set(handle.id, state);
    state.result = this.runStep(state, kind, plans).finally(() => {
      state.logs.close();
      state.rejectReady(
        new SkiffError(EXEC_CODES["SKF-EXEC-008"], `daemon step '${request.nodeName}' ended`),
      );
    });
    state.result.catch(() => undefined);
    // Daemons return at once too: the caller waits on ready(), and needs the handle to kill a daemon that
    // never becomes ready.
    return handle;
  }

  async ready(handle: StepHandle): Promise<DaemonReady> {
    return this.stateOf(handle).ready;
  }

  /**
   * The step's result. Once it resolves the executor forgets the step (a workflow of many steps must not grow
   * memory with their number): later calls for the handle throw SKF-EXEC-005, `kill` does nothing, and a
   * `logs` iterator taken before still drains the step's lines.
   */
  async wait(handle: StepHandle): Promise<StepResult> {
    const state = this.stateOf(handle);
    try {
      return await state.result;
    } finally {
      this.steps.delete(handle.id);
      this.retireRecords(state.records);
    }
  }

  /** Where a step's records live: derived from the request alone, so a later controller finds them. */
  private recordsDir(request: StepRequest): string {
    const wf = path.join(
      this.settings.recordsDir,
      `${safeName(request.workflowName)}-${safeName(request.workflowUid)}`,
    );
    this.workflowRecords.add(wf);
    return path.join(wf, safeName(request.nodeId));
  }

  /** Removes records whose retention has passed, and keeps `dir` until its own has. */
  private retireRecords(dir: string): void {
    const now = Date.now();
    this.doneRecords.push({ dir, at: now });
    while (this.doneRecords.length > 0 && this.doneRecords[0]!.at < now - RECORDS_RETENTION_MS) {
      this.supervisor.remove(this.doneRecords.shift()!.dir);
    }
  }

  logs(handle: StepHandle): AsyncIterable<LogLine> {
    // The reader holds the lines, not the step: they are freed with the reader once it ends.
    return this.stateOf(handle).logs.read();
  }

  /** How many steps the executor still holds: those started and not yet waited for. */
  get liveSteps(): number {
    return this.steps.size;
  }

  async kill(handle: StepHandle, reason: string): Promise<void> {
    const state = this.steps.get(handle.id);
    // A step already waited for has ended: there is nothing left to stop.
    if (!state) return;
    state.stop ??= { kind: "kill", reason };
    await this.stopProcesses(state);
    await state.result.catch(() => undefined);
  }

  async cleanup(): Promise<void> {
    const states = [...this.steps.values()];
    for (const s of states) {
      s.stop ??= { kind: "kill", reason: "executor cleaned up" };
      s.abort?.abort();
      for (const p of s.processes) p.signal("SIGKILL");
    }
    await Promise.all(states.map((s) => s.result.catch(() => undefined)));
    this.steps.clear();
    this.spareDirs.length = 0;
    // Every step is gone: the supervisor may go too.
    await this.supervisor.close(true);
    this.doneRecords.length = 0;
    for (const dir of this.workflowRecords) await rm(dir, { recursive: true, force: true });
    this.workflowRecords.clear();
    await rmdir(this.settings.recordsDir).catch(() => undefined);
    await Promise.all(this.removals);
    if (this.rootDir) {
      const dir = await this.rootDir.catch(() => undefined);
      this.rootDir = undefined;
      if (dir) await rm(dir, { recursive: true, force: true });
    }
    if (this.layoutDir) {
      const dir = await this.layoutDir.catch(() => undefined);
      this.layoutDir = undefined;
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  private stateOf(handle: StepHandle): StepState {
    const s = this.steps.get(handle.id);
    if (!s) {
      throw new SkiffError(
        EXEC_CODES["SKF-EXEC-005"],
        `unknown step handle '${handle.id}' (never started here, already waited for, or cleaned up)`,
      );
    }
    return s;
  }

  private async stopProcesses(state: StepState): Promise<void> {
    state.abort?.abort();
    await Promise.all([...state.processes].map((p) => p.terminate(this.settings.killGracePeriodMs)));
  }

  /**
   * This executor's folder in `layoutDir`, named after its supervisor, which runs as long as steps using the
   * folder may (it outlives a killed controller), so that folders whose supervisor is gone without cleaning up
   * (a tmpfs holds them until reboot) are found and removed by the next executor.
   */
  private layoutRoot(base: string): Promise<string> {
    this.layoutDir ??= (async () => {
      const owner = this.supervisor.pid;
      await mkdir(base, { recursive: true });
      for (const name of await readdir(base).catch(() => [] as string[])) {
        const pid = /^skiff-(\d+)-/.exec(name)?.[1];
        if (pid !== undefined && Number(pid) !== owner && !processAlive(Number(pid))) {
          void this.removeLater(path.join(base, name));
        }
      }
      return mkdtemp(path.join(base, `skiff-${owner}-`));
    })();
    return this.layoutDir;
  }

  private workRoot(): Promise<string> {
    this.rootDir ??= (async () => {
      await mkdir(this.settings.workDir, { recursive: true });
      return mkdtemp(path.join(this.settings.workDir, "skiff-host-"));
    })();
    return this.rootDir;
  }

  // ---------------------------------------------------------------------------------------------------
  // Planning: everything that can be checked before a process runs, so start() throws for it.

  private planContainers(
    request: StepRequest,
    kind: "container" | "script" | "containerSet",
  ): ContainerPlan[] {
    const t = request.template;
    const plan = (
      c: Container,
      name: string,
      role: ContainerPlan["role"],
      extra: string[] = [],
    ): ContainerPlan => {
      const image = findImageConfig(this.settings.images, c.image);
      const argv = containerArgv(c, image, extra, role === "init" ? "init container" : "container");
      const env = this.environment(request, c, image);
      this.assertCommandExists(argv[0]!, env.PATH ?? "", c, name);
      const deps = (c as { dependencies?: string[] }).dependencies ?? [];
      // As a pod starts in its image's WORKDIR, a step without `workingDir` starts in the image's
      // `host.workingDir` when the images config gives one, else in the workspace (the checkout, for CI
      // runs), which a sandbox binds at its own path.
      const cwd =
        c.workingDir ??
        image?.host?.workingDir ??
        (request.workspace ? path.resolve(request.workspace) : "/");
      return { name, role, container: c, argv, env, cwd, dependencies: deps };
    };
    return planPodContainers(t, kind, `${SCRIPT_DIR}/script`, plan);
  }

  private environment(
    request: StepRequest,
    c: Container,
    image: ImageConfig | undefined,
  ): Record<string, string> {
    const env: Record<string, string> = {};
    for (const k of this.settings.inheritEnv) {
      const v = process.env[k];
      if (v !== undefined) env[k] = v;
    }
    env.PATH ??= "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    if (image?.host?.path?.length) env.PATH = [...image.host.path, env.PATH].join(":");
    Object.assign(env, image?.host?.env ?? {}, request.env);
    if (request.workspace) env.SKIFF_WORKSPACE = path.resolve(request.workspace);
    for (const e of c.env ?? []) env[e.name] = e.value ?? "";
    return env;
  }

  private assertCommandExists(cmd: string, envPath: string, c: Container, name: string): void {
    if (cmd.includes("/")) return;
    const key = `${envPath}\0${cmd}`;
    if (this.foundCommands.has(key)) return;
    for (const dir of envPath.split(":")) {
      if (dir && isExecutableSync(path.join(dir, cmd))) {
        this.foundCommands.add(key);
        return;
      }
    }
    throw new SkiffError(
      EXEC_CODES["SKF-EXEC-002"],
      `container '${name}' runs '${cmd}', which is not installed on this machine (image '${c.image ?? "<none>"}')`,
      {
        hint:
          `Install '${cmd}', or map it onto a host tool: ` +
          `images: { "${c.image ?? "<image>"}": { host: { commands: { ${cmd}: "<host command>" } } } }.`,
      },
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // Running

  private async runStep(state: StepState, kind: RunnableType, plans: ContainerPlan[]): Promise<StepResult> {
    const clock = this.settings.clock;
    const startedAt = (state.adopting ? firstRecordedStart(state.records) : undefined) ?? clock.now();
    const timer =
      state.request.deadline !== undefined
        ? clock.setTimer(state.request.deadline - clock.now(), () => {
            state.stop ??= { kind: "deadline" };
            void this.stopProcesses(state);
          })
        : undefined;
    try {
      if (kind === "http" || kind === "data") {
        const r =
          kind === "http"
            ? await runHttpStep(state.request, {
                clock,
                signal: abortSignalOf(state),
                ...(this.settings.extraCACerts ? { extraCACerts: this.settings.extraCACerts } : {}),
              })
            : await runDataStep(state.request, { scratchDir: await this.stepDir(state) });
        const result: StepResult = {
          phase: r.phase,
          exitCode: null,
          outputs: r.result === undefined ? {} : { result: r.result },
          startedAt: iso(startedAt),
          finishedAt: iso(clock.now()),
          hostNodeName: this.host,
        };
        if (r.message) result.message = r.message;
        this.applyStop(state, result);
        return result;
      }
      return await this.runPod(state, kind, plans, startedAt);
    } catch (e) {
      return {
        phase: "Error",
        message: (e as Error).message,
        exitCode: null,
        outputs: {},
        startedAt: iso(startedAt),
        finishedAt: iso(clock.now()),
        hostNodeName: this.host,
      };
    } finally {
      if (timer) clock.clearTimer(timer);
      // Probes or stragglers still writing into the step folder would race its removal.
      state.finished = true;
      state.abort?.abort();
      for (const p of state.processes) p.signal("SIGKILL");
      await Promise.all([...state.processes].map((p) => p.exited));
      // An attached step stopped before its recorded processes were taken over still has them running.
      if (state.adopting) await killRecordedGroups(state.records);
      if (!this.settings.keepStepDirs) {
        // An attached step's folder belongs to the earlier executor's root: it is never kept for reuse.
        if (state.adopting && state.dir) await this.removeLater(state.dir);
        else if (state.dir && this.spareDirs.length < MAX_SPARE_DIRS && isCleanStepDir(state.dir)) {
          this.spareDirs.push(state.dir);
        } else if (state.dir) await this.removeLater(state.dir);
        // On a tmpfs, removing at once is cheaper than the many awaited calls of an asynchronous removal.
        if (state.rootFsDir) removeNow(state.rootFsDir);
      }
    }
  }

  /**
   * Removes a step folder off the step's critical path: the result is final before its folder is gone, so the
   * next step need not wait. Few removals run at once, so a long workflow cannot pile them up.
   */
  private async removeLater(dir: string): Promise<void> {
    while (this.removals.size >= MAX_PENDING_REMOVALS) await Promise.race(this.removals);
    const removal: Promise<void> = rm(dir, { recursive: true, force: true, maxRetries: 3 })
      .catch(() => undefined)
      .finally(() => this.removals.delete(removal));
    this.removals.add(removal);
  }

  private async stepDir(state: StepState): Promise<string> {
    if (!state.dir) {
      const root = await this.workRoot();
      state.dir =
        this.spareDirs.pop() ?? (await mkdtemp(path.join(root, `${safeName(state.request.podName)}-`)));
    }
    return state.dir;
  }

  /** The host folder holding a volume's contents (made on first use by the layout). */
  private volumeHostPath(state: StepState, root: string, dir: string, v: VolumeMountPlan): string {
    const src = v.source;
    let base: string;
    if (src.kind === "host") base = src.path;
    else if (src.kind === "claim" && src.scope === "existing")
      base = path.join(this.settings.volumesDir, safeName(src.claimName));
    else if (src.kind === "claim") {
      const wf = `${safeName(state.request.workflowName)}-${safeName(state.request.workflowUid)}`;
      base = path.join(root, "workflows", wf, "claims", safeName(src.claimName));
    } else base = path.join(dir, "volumes", safeName(src.name));
    return v.subPath ? path.join(base, v.subPath) : base;
  }

  private layoutFor(state: StepState, plans: ContainerPlan[], root: string, dir: string): SandboxLayout {
    const t = state.request.template;
    const binds: Bind[] = state.volumes.map((v) => ({
      mountPath: v.mountPath,
      hostPath: this.volumeHostPath(state, root, dir, v),
      readOnly: v.readOnly,
    }));
    if (!this.settings.bwrapPath) {
      // Without a sandbox, volumes are the host paths themselves, and scripts live in the step folder.
      return createHostLayout({
        binds: dir ? [{ mountPath: SCRIPT_DIR, hostPath: path.join(dir, "staging") }] : [],
      });
    }
    const named: NamedPath[] = [{ path: SCRIPT_DIR, replace: true }];
    for (const a of state.request.inputArtifacts) if (a.path) named.push({ path: a.path, replace: true });
    for (const p of t.outputs?.parameters ?? [])
      if (p.valueFrom?.path) named.push({ path: p.valueFrom.path, replace: false });
    for (const a of t.outputs?.artifacts ?? []) if (a.path) named.push({ path: a.path, replace: false });
    for (const p of plans) named.push({ path: p.cwd, replace: false });
    for (const w of this.settings.writablePaths) {
      if (existsSync(w) && !binds.some((b) => b.mountPath === w)) binds.push({ mountPath: w, hostPath: w });
    }
    // A tool folder an image's `host.path` names that lies under /tmp or /var/tmp would be hidden by the
    // step's private ones: bind it read-only at its own path.
    for (const p of plans) {
      for (const d of findImageConfig(this.settings.images, p.container.image)?.host?.path ?? []) {
        const abs = path.resolve("/", d);
        const underPrivate = ["/tmp", "/var/tmp"].some((t) => abs === t || abs.startsWith(t + "/"));
        if (d && underPrivate && existsSync(abs) && !binds.some((b) => b.mountPath === abs)) {
          binds.push({ mountPath: abs, hostPath: abs, readOnly: true });
        }
      }
    }
    const opts: Parameters<typeof createBwrapLayout>[0] = { stepDir: dir, binds, namedPaths: named };
    if (state.rootFsDir) opts.rootDir = state.rootFsDir;
    if (state.request.workspace) opts.workspace = path.resolve(state.request.workspace);
    return createBwrapLayout(opts, this.currentHostView());
  }

  /** The host as layouts see it, read again once it is older than HOST_VIEW_MAX_AGE_MS. */
  private currentHostView(): HostView {
    const now = this.settings.clock.now();
    if (!this.hostView || now - this.hostView.readAt > HOST_VIEW_MAX_AGE_MS) {
      this.hostView = { view: new HostView(), readAt: now };
    }
    return this.hostView.view;
  }

  /** Writes the files of `configMap`/`secret` volumes where the step will see them. */
  private async writeVolumeFiles(state: StepState, layout: SandboxLayout, root: string, dir: string) {
    for (const v of state.volumes) {
      if (v.source.kind === "files") {
        // In a sandbox the files go to the volume's folder; without one, to the mount path itself.
        const base = layout.sandboxed ? this.volumeHostPath(state, root, dir, v) : v.mountPath;
        await mkdir(base, { recursive: true });
        for (const f of v.source.files) {
          const file = path.join(base, f.path);
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, f.content, { mode: f.mode });
          await chmod(file, f.mode);
        }
      } else if (!layout.sandboxed) {
        await mkdir(v.mountPath, { recursive: true }).catch(() => undefined);
      }
    }
  }

  private async runPod(
    state: StepState,
    kind: RunnableType,
    plans: ContainerPlan[],
    startedAtMs: number,
  ): Promise<StepResult> {
    const { request } = state;
    const clock = this.settings.clock;
    // A step folder costs a mkdtemp and a removal; without a sandbox most steps need none.
    const outputArtifacts = (request.template.outputs?.artifacts ?? []).length > 0;
    const inputArtifacts = request.inputArtifacts.some((a) => a.path !== undefined);
    const needsDir = this.sandboxed || kind === "script" || inputArtifacts || outputArtifacts;
    let dir = "";
    if (state.adopting) {
      // The folders the earlier controller made, as its first process recorded them.
      const meta = readMeta(state.records);
      if (needsDir && !meta) throw new Error("the step's records do not say where its folders are");
      if (meta) {
        dir = state.dir = meta.dir;
        if (meta.rootFsDir) state.rootFsDir = meta.rootFsDir;
      }
    } else {
      dir = needsDir ? await this.stepDir(state) : "";
      if (this.sandboxed && this.settings.layoutDir) {
        state.rootFsDir = await mkdtemp(path.join(await this.layoutRoot(this.settings.layoutDir), "fs-"));
      }
    }
    const root = this.sandboxed ? await this.workRoot() : "";
    if (dir && !state.adopting) {
      const meta: StepMeta = { dir };
      if (state.rootFsDir) meta.rootFsDir = state.rootFsDir;
      state.meta = JSON.stringify(meta);
    }
    const scratch = path.join(dir, "scratch");
    if (inputArtifacts || outputArtifacts) await mkdir(scratch, { recursive: true });
    const layout = this.layoutFor(state, plans, root, dir);
    const base = (): StepResult => ({
      phase: "Succeeded",
      exitCode: null,
      outputs: {},
      startedAt: iso(startedAtMs),
      finishedAt: iso(clock.now()),
      hostNodeName: this.host,
    });
    const fail = (phase: StepResult["phase"], message: string, containers: ContainerResult[]): StepResult => {
      const r = { ...base(), phase, message };
      if (containers.length) r.containers = containers;
      this.applyStop(state, r);
      return r;
    };

    // Argo's init container: input artifacts and the script file (done before a step's first process).
    if (!state.adopting)
      try {
        await loadInputArtifacts(request.inputArtifacts, {
          hostPath: (p) => layout.hostPath(p),
          ...(request.artifactRepository ? { repository: request.artifactRepository } : {}),
          scratchDir: scratch,
        });
        await this.writeVolumeFiles(state, layout, root, dir);
        if (kind === "script") {
          const file = layout.hostPath(`${SCRIPT_DIR}/script`);
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, request.template.script!.source ?? "");
          await chmod(file, 0o755);
        }
        for (const p of plans) {
          // The workspace and `/` exist; only a `workingDir` may need making, as the container runtime does.
          if (p.container.workingDir === undefined) continue;
          if (layout.isPrivate(p.cwd) || !layout.sandboxed)
            await mkdir(layout.hostPath(p.cwd), { recursive: true }).catch(() => undefined);
        }
      } catch (e) {
        const msg =
          e instanceof InputLoadError ? e.message : `failed to prepare step: ${(e as Error).message}`;
        return fail("Error", containerFailureMessage("init", 1, msg), []);
      }
    if (kind === "script" && !layout.sandboxed) {
      const main = plans.find((p) => p.role === "main")!;
      main.argv[main.argv.length - 1] = layout.hostPath(`${SCRIPT_DIR}/script`);
    }

    const containers: ContainerResult[] = [];
    for (const p of plans.filter((x) => x.role === "init")) {
      if (state.stop) break;
      const r = await this.runContainer(state, p, layout, undefined);
      containers.push(containerResultOf(p.name, r.exit.exitCode, iso(r.startedAt), iso(r.exit.finishedAt)));
      if (r.exit.exitCode !== 0) {
        return fail("Error", containerFailureMessage(p.name, r.exit.exitCode, r.exit.spawnError), containers);
      }
    }
    if (state.stop) return fail("Failed", "", containers);

    const sidecars = plans
      .filter((p) => p.role === "sidecar")
      .map((p) => ({ plan: p, run: this.startContainer(state, p, layout, undefined) }));

    const capture = request.captureResult ? new TailBuffer() : undefined;
    let mainExit: ProcessExit;
    let mainFailure: { phase: StepResult["phase"]; message: string } | undefined;
    if (kind === "containerSet") {
      const set = await this.runContainerSet(
        state,
        plans.filter((p) => p.role === "set"),
        layout,
        capture,
      );
      containers.push(...set.results);
      mainExit = set.mainExit;
      const failed = set.results.find((c) => c.phase !== "Succeeded");
      if (failed)
        mainFailure = {
          phase: "Failed",
          message: failed.message ?? containerFailureMessage(failed.name, failed.exitCode),
        };
    } else {
      const main = plans.find((p) => p.role === "main")!;
      const run = this.startContainer(state, main, layout, capture);
      if (request.daemon) void this.watchReadiness(state, main, layout, run.process);
      const r = await run.done;
      mainExit = r.exit;
      containers.push(containerResultOf("main", r.exit.exitCode, iso(r.startedAt), iso(r.exit.finishedAt)));
      if (r.exit.exitCode !== 0) {
        mainFailure = {
          phase: "Failed",
          message: containerFailureMessage("main", r.exit.exitCode, r.exit.spawnError),
        };
      }
    }

    for (const s of sidecars) void s.run.process.terminate(this.settings.killGracePeriodMs);
    for (const s of sidecars) {
      const r = await s.run.done;
      const c = containerResultOf(s.plan.name, r.exit.exitCode, iso(r.startedAt), iso(r.exit.finishedAt));
      containers.push(c);
      if (!mainFailure && r.exit.exitCode !== 0 && !isIgnoredSidecarExit(r.exit.exitCode)) {
        mainFailure = {
          phase: "Failed",
          message: containerFailureMessage(s.plan.name, r.exit.exitCode, r.exit.spawnError),
        };
      }
    }

    const result = base();
    result.exitCode = mainExit.exitCode;
    if (mainExit.exitCode !== null) result.outputs.exitCode = String(mainExit.exitCode);
    if (capture) result.outputs.result = capture.toResult();
    if (containers.length) result.containers = containers;
    if (mainFailure) {
      result.phase = mainFailure.phase;
      result.message = mainFailure.message;
    }
    if (!state.stop) {
      const ctx = {
        hostPath: (p: string) => layout.hostPath(p),
        keyPrefix: request.artifactKeyPrefix,
        scratchDir: scratch,
        ...(request.artifactRepository
          ? { repository: request.artifactRepository as ArtifactRepository }
          : {}),
      };
      try {
        const params = await collectOutputParameters(request.template, ctx);
        if (params.length) result.outputs.parameters = params;
        const arts = await saveOutputArtifacts(request.template, ctx);
        if (arts.length) result.outputs.artifacts = arts;
      } catch (e) {
        if (!(e instanceof OutputCollectionError)) throw e;
        if (!mainFailure) {
          result.phase = "Error";
          result.message = e.message;
        }
      }
    }
    if (request.daemon && result.phase === "Succeeded" && !state.stop) {
      // A daemon that exits on its own has failed (§1.5).
      result.phase = "Failed";
      result.message = "daemon exited";
    }
    result.finishedAt = iso(clock.now());
    this.applyStop(state, result);
    return result;
  }

  /** A deadline or kill overrides whatever the processes reported; so does a lost process. */
  private applyStop(state: StepState, result: StepResult): void {
    if (state.lost && !state.stop) {
      result.phase = "Error";
      result.message = `pod deleted: ${state.lost}`;
      return;
    }
    if (!state.stop) return;
    result.phase = "Failed";
    result.message = state.stop.kind === "deadline" ? DEADLINE_MESSAGE : state.stop.reason;
  }

  private async runContainerSet(
    state: StepState,
    plans: ContainerPlan[],
    layout: SandboxLayout,
    capture: TailBuffer | undefined,
  ): Promise<{ results: ContainerResult[]; mainExit: ProcessExit }> {
    const done = new Map<string, Promise<ContainerResult>>();
    let mainExit: ProcessExit = { exitCode: null, finishedAt: this.settings.clock.now() };
    const run = (p: ContainerPlan): Promise<ContainerResult> => {
      let r = done.get(p.name);
      if (r) return r;
      r = (async () => {
        const deps = await Promise.all(p.dependencies.map((d) => run(plans.find((x) => x.name === d)!)));
        if (state.stop || deps.some((d) => d.phase !== "Succeeded")) {
          return {
            name: p.name,
            exitCode: null,
            phase: "Error" as const,
            message: `Pod failed before ${p.name} container starts`,
          };
        }
        const x = await this.startContainer(state, p, layout, p.name === "main" ? capture : undefined).done;
        if (p.name === "main") mainExit = x.exit;
        const c = containerResultOf(p.name, x.exit.exitCode, iso(x.startedAt), iso(x.exit.finishedAt));
        if (x.exit.spawnError && c.message) c.message += `: ${x.exit.spawnError}`;
        return c;
      })();
      done.set(p.name, r);
      return r;
    };
    const results = await Promise.all(plans.map(run));
    if (!plans.some((p) => p.name === "main")) {
      const last = results[results.length - 1];
      mainExit = { exitCode: last?.exitCode ?? null, finishedAt: this.settings.clock.now() };
    }
    return { results, mainExit };
  }

  private runContainer(
    state: StepState,
    plan: ContainerPlan,
    layout: SandboxLayout,
    capture: TailBuffer | undefined,
  ): Promise<{ exit: ProcessExit; startedAt: number }> {
    return this.startContainer(state, plan, layout, capture).done;
  }

  private startContainer(
    state: StepState,
    plan: ContainerPlan,
    layout: SandboxLayout,
    capture: TailBuffer | undefined,
  ): { process: StepProcess; done: Promise<{ exit: ProcessExit; startedAt: number }> } {
    const clock = this.settings.clock;
    const line = (stream: "stdout" | "stderr") =>
      new LineSplitter((text) =>
        state.logs.push({
          nodeId: state.request.nodeId,
          container: plan.name,
          stream,
          time: iso(clock.now()),
          text,
        }),
      );
    const out = line("stdout");
    let sandboxError: string | undefined;
    const err = new LineSplitter((text) => {
      // bwrap's own complaints (a mount it could not make) explain a failure better than the exit code.
      if (this.settings.bwrapPath && sandboxError === undefined && text.startsWith("bwrap: "))
        sandboxError = text;
      state.logs.push({
        nodeId: state.request.nodeId,
        container: plan.name,
        stream: "stderr",
        time: iso(clock.now()),
        text,
      });
    });
    let startedAt = clock.now();
    const onStdout = (c: Buffer) => {
      capture?.write(c);
      out.write(c);
    };
    const onStderr = (c: Buffer) => err.write(c);
    const recorded = state.adopting ? readStatus(state.records, plan.name) : undefined;
    let proc: StepProcess;
    if (recorded) {
      startedAt = recorded.startedAt;
      proc = StepProcess.adopt(
        recorded,
        { records: { dir: state.records, name: plan.name }, onStdout, onStderr, sandboxed: this.sandboxed },
        clock,
      );
    } else {
      const records: { dir: string; name: string; fresh?: boolean; meta?: string } = {
        dir: state.records,
        name: plan.name,
      };
      if (!state.launched && !state.adopting) {
        records.fresh = true;
        if (state.meta) records.meta = state.meta;
      }
      state.launched = true;
      proc = StepProcess.launch(
        this.supervisor,
        {
          argv: plan.argv,
          env: plan.env,
          cwd: plan.cwd,
          hostCwd: layout.hostPath(plan.cwd),
          ...(this.settings.bwrapPath ? { bwrap: { path: this.settings.bwrapPath, args: layout.args } } : {}),
          records,
          onStdout,
          onStderr,
        },
        clock,
      );
    }
    state.processes.add(proc);
    const done = proc.exited.then(async (exit) => {
      out.end();
      err.end();
      // A stopped container ends once its processes are gone, not only their pipes (a killed pod is reported
      // once its containers are); containers that ended on their own skip the /proc scan.
      if (state.stop) await proc.gone();
      state.processes.delete(proc);
      if (exit.lost) state.lost ??= exit.lost;
      if (sandboxError && exit.exitCode !== 0 && !exit.spawnError) exit.spawnError = sandboxError;
      return { exit, startedAt };
    });
    return { process: proc, done };
  }

  private async watchReadiness(
    state: StepState,
    main: ContainerPlan,
    layout: SandboxLayout,
    proc: StepProcess,
  ): Promise<void> {
    const probe = main.container.readinessProbe as K8sObject | undefined;
    const clock = this.settings.clock;
    try {
      const initial = Number(probe?.initialDelaySeconds ?? 0);
      if (initial > 0) await clock.sleep(initial * 1000, abortSignalOf(state));
      const period = Math.min(Number(probe?.periodSeconds ?? 10) * 1000, this.settings.readinessPollMs);
      while (proc.running && !state.stop) {
        if (!probe || (await this.probeOnce(state, probe, main, layout))) {
          state.resolveReady({ ip: "127.0.0.1" });
          return;
        }
        await clock.sleep(period, abortSignalOf(state));
      }
    } catch {
      // Aborted: the step ended or was killed; `runStep` rejects `ready`.
    }
  }

  private async probeOnce(
    state: StepState,
    probe: K8sObject,
    main: ContainerPlan,
    layout: SandboxLayout,
  ): Promise<boolean> {
    const httpGet = probe.httpGet as K8sObject | undefined;
    const exec = probe.exec as { command?: string[] } | undefined;
    const tcp = probe.tcpSocket as K8sObject | undefined;
    try {
      if (httpGet) {
        const scheme = String(httpGet.scheme ?? "HTTP").toLowerCase();
        const host = String(httpGet.host ?? "127.0.0.1");
        const p = String(httpGet.path ?? "/");
        const res = await fetch(`${scheme}://${host}:${portOf(httpGet.port, main.container)}${p}`, {
          signal: AbortSignal.timeout(Number(probe.timeoutSeconds ?? 1) * 1000),
        });
        await res.arrayBuffer();
        return res.status >= 200 && res.status < 400;
      }
      if (exec?.command?.length) {
        const proc = StepProcess.launch(
          this.supervisor,
          {
            argv: exec.command,
            env: main.env,
            cwd: main.cwd,
            hostCwd: layout.hostPath(main.cwd),
            ...(this.settings.bwrapPath
              ? { bwrap: { path: this.settings.bwrapPath, args: layout.args } }
              : {}),
            onStdout: () => undefined,
            onStderr: () => undefined,
          },
          this.settings.clock,
        );
        state.processes.add(proc);
        const exit = await proc.exited;
        state.processes.delete(proc);
        return exit.exitCode === 0;
      }
      if (tcp) {
        const net = await import("node:net");
        const port = portOf(tcp.port, main.container);
        return await new Promise<boolean>((resolve) => {
          const s = net.connect({ host: String(tcp.host ?? "127.0.0.1"), port }, () => {
            s.destroy();
            resolve(true);
          });
          s.on("error", () => resolve(false));
        });
      }
      return true;
    } catch {
      return false;
    }
  }
}

/** Whether a step folder holds nothing but the sandbox's empty /tmp and /var/tmp, so it can serve again. */
function isCleanStepDir(dir: string): boolean {
  try {
    return readdirSync(dir).every(
      (name) => (name === "tmp" || name === "var-tmp") && readdirSync(path.join(dir, name)).length === 0,
    );
  } catch {
    return false;
  }
}

function removeNow(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // Left for the OS to clear (a tmpfs does at reboot).
  }
}

function abortSignalOf(state: StepState): AbortSignal {
  if (!state.abort) {
    state.abort = new AbortController();
    if (state.stop || state.finished) state.abort.abort();
  }
  return state.abort.signal;
}

function portOf(port: unknown, container: Container): number {
  if (typeof port === "number") return port;
  const named = (container.ports ?? []).find((p) => p.name === port);
  return Number(named?.containerPort ?? port);
}

function isExecutableSync(file: string): boolean {
  try {
    // Synchronous on purpose: start() must throw before anything runs.
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function safeName(s: string): string {
  return s.replace(/[^a-zA-Z0-9._-]/g, "_").slice(0, 100) || "step";
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
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
