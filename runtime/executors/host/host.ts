import {
  accessSync,
  constants as fsConstants,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
} from "node:fs";
import { mkdir, mkdtemp, readdir, rm, rmdir } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { SkiffError } from "../../errors/index.js";
import type { Clock } from "../../interfaces/clock.js";
import type { ExecutorCapabilities, StepRequest } from "../../interfaces/executor.js";
import type { Container } from "../../spec/types.js";
import {
  containerArgv,
  containerEnv,
  type ContainerRuntime,
  type ContainerToPlan,
  EXEC_CODES,
  findImageConfig,
  type FoundPod,
  type ImageConfig,
  type ImagesConfig,
  type PlannedContainer,
  PodExecutor,
  type PodStep,
  type RunnableKind,
  SCRIPT_PATH,
  type VolumeMountPlan,
} from "../shared/index.js";
import { HostPod } from "./pod.js";
import { groupMembers, processAlive, readStatus } from "./process.js";
import {
  createBwrapLayout,
  createHostLayout,
  HostView,
  type Bind,
  type NamedPath,
  type SandboxLayout,
} from "./sandbox.js";
import { Supervisor } from "./supervisor.js";

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
  warn: (code: string, message: string) => void;
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
  /** Whether a killed run's workflow may be resumed (see `HostExecutorOptions.resumable`). */
  resumable?: (workflow: RecordedWorkflow) => Promise<boolean>;
}

/** The workflow a records folder belongs to (its `workflow.json`). */
export interface RecordedWorkflow {
  namespace: string;
  name: string;
  uid: string;
}

/** A container of a step as the host runs it: a process with its argv, environment and working folder. */
export interface HostContainer extends PlannedContainer {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

/** Argo writes a script's `source` in this folder; the sandbox puts it at the same place. */
const SCRIPT_DIR = path.posix.dirname(SCRIPT_PATH);

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

/** Runs leaf steps as host processes; see README.md beside this file. */
export class HostExecutor extends PodExecutor<HostContainer, true> {
  constructor(private readonly settings: HostSettings) {
    super(new HostRuntime(settings));
  }

  /** Whether steps run in a bubblewrap sandbox. */
  get sandboxed(): boolean {
    return this.settings.bwrapPath !== undefined;
  }
}

/**
 * The host as a container runtime: a container is a process group started by the supervisor, in a bubblewrap
 * sandbox when one is available; a pod is a step folder and a records folder (see `pod.ts`).
 */
export class HostRuntime implements ContainerRuntime<HostContainer, true> {
  readonly name = "host";
  readonly title = "host";
  readonly capabilities: ExecutorCapabilities = { resource: false, containers: false };
  readonly hostNodeName = hostname();
  readonly clock: Clock;
  readonly readinessPollMs: number;
  readonly extraCACerts: string | undefined;
  /** Whether the warning that steps run without a sandbox was given (once per executor). */
  private warned = false;
  /** Starts every step process (see supervisor.ts). */
  readonly supervisor = new Supervisor();
  private rootDir: Promise<string> | undefined;
  private readonly removals = new Set<Promise<void>>();
  private layoutDir: Promise<string> | undefined;
  /** Step folders a step left as it found them (empty /tmp and /var/tmp), ready for the next step. */
  private readonly spareDirs: string[] = [];
  private hostView: { view: HostView; readAt: number } | undefined;
  /** Commands found on a PATH, by `PATH\0command`; only hits are kept, so a tool installed later is found. */
  private readonly foundCommands = new Set<string>();
  /** Records folders of steps whose results were handed over, oldest first, removed after a while. */
  private readonly doneRecords: { dir: string; at: number }[] = [];
  /** Records folders of the workflows this executor ran steps of (removed by `cleanup`). */
  private readonly workflowRecords = new Set<string>();
  /** The removal of killed runs' records (`sweepRecords`), awaited by `cleanup`. */
  private sweep: Promise<void> | undefined;

  constructor(readonly settings: HostSettings) {
    this.clock = settings.clock;
    this.readinessPollMs = settings.readinessPollMs;
    this.extraCACerts = settings.extraCACerts;
  }

  /** Whether steps run in a bubblewrap sandbox. */
  get sandboxed(): boolean {
    return this.settings.bwrapPath !== undefined;
  }

  /**
   * Follows a step an earlier controller of the workflow started (crash recovery), found by its records
   * folder: containers that ended while no controller ran are taken as recorded, running ones are followed,
   * and the step goes on from there (a sidecar or main after recorded init containers starts now). A step with
   * no record of a started process is not there to attach to; one whose process is gone without a recorded
   * end is an Error. HTTP and data steps ran inside the dead process: there is nothing to follow.
   */
  /**
   * What became of a step an earlier controller stored as Running. Its first process is asked of a step
   * supervisor only after `<records>.launch` names that supervisor, and the supervisor writes `.status`
   * right after the process exists: so no launch record, or one whose supervisor is gone with no status
   * written, means the step provably never started (`start`); a status means it did (`follow`, which tells
   * a process that vanished, lost, from one that runs or ended). A live supervisor may still be starting it
   * (requests left in its pipe): its status is waited for a while.
   */
  async find(request: StepRequest, kind: RunnableKind): Promise<FoundPod<true>> {
    if (kind === "http" || kind === "data") return { action: "lost" };
    const dir = this.recordsDir(request);
    const started = (): boolean => {
      try {
        return readdirSync(dir).some((n) => n.endsWith(".status"));
      } catch {
        return false;
      }
    };
    if (started()) return { action: "follow", found: true };
    let supervisor: number | undefined;
    try {
      supervisor = (JSON.parse(readFileSync(`${dir}.launch`, "utf8")) as { supervisor?: number }).supervisor;
    } catch {
      return { action: "start" };
    }
    for (let i = 0; i < 60 && supervisor !== undefined && processAlive(supervisor); i++) {
      await delay(50);
      if (started()) return { action: "follow", found: true };
    }
    return started() ? { action: "follow", found: true } : { action: "start" };
  }

  createPod(step: PodStep<HostContainer>, found: true | undefined): HostPod {
    if (!this.sandboxed && !this.warned && step.plans.length > 0) {
      this.warned = true;
      const code = EXEC_CODES["SKF-EXEC-013"];
      this.settings.warn(code, `${code}: ${unsandboxedWarning(this.settings.inheritEnv)}`);
    }
    return new HostPod(this, step, this.recordsDir(step.request), found === true);
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
  retireRecords(dir: string): void {
    const now = Date.now();
    this.doneRecords.push({ dir, at: now });
    while (this.doneRecords.length > 0 && this.doneRecords[0]!.at < now - RECORDS_RETENTION_MS) {
      const old = this.doneRecords.shift()!.dir;
      this.supervisor.remove(old);
      this.supervisor.remove(`${old}.launch`);
    }
  }

  async cleanup(): Promise<void> {
    await this.sweep;
    this.sweep = undefined;
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

  /**
   * This executor's folder in `layoutDir`, named after its supervisor, which runs as long as steps using the
   * folder may (it outlives a killed controller), so that folders whose supervisor is gone without cleaning up
   * (a tmpfs holds them until reboot) are found and removed by the next executor.
   */
  layoutRoot(base: string): Promise<string> {
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

  /**
   * This executor's folder of step folders, named after its supervisor (`skiff-host-<pid>-`) like the layout
   * folders: the folders of executors whose supervisor is gone (a killed run whose steps all ended) are
   * removed by the next executor, unless a step's records still name one (a killed run not resumed yet may
   * need its outputs there).
   */
  workRoot(): Promise<string> {
    this.rootDir ??= (async () => {
      const owner = this.supervisor.pid;
      const base = this.settings.workDir;
      await mkdir(base, { recursive: true });
      let needed: Set<string> | undefined;
      for (const name of await readdir(base).catch(() => [] as string[])) {
        const pid = /^skiff-host-(\d+)-/.exec(name)?.[1];
        if (pid === undefined || Number(pid) === owner || processAlive(Number(pid))) continue;
        needed ??= this.recordedRoots();
        const dir = path.join(base, name);
        if (!needed.has(dir)) void this.removeLater(dir);
      }
      this.sweep ??= this.sweepRecords().catch(() => undefined);
      return mkdtemp(path.join(base, `skiff-host-${owner}-`));
    })();
    return this.rootDir;
  }

  /**
   * Removes the records of killed runs that nobody can need: no process they name runs (step supervisors,
   * step process groups) and the workflow cannot be resumed (`settings.resumable`: gone from the store, or
   * completed). Records without a `workflow.json`, or when `resumable` is not given, are kept.
   */
  private async sweepRecords(): Promise<void> {
    const resumable = this.settings.resumable;
    if (!resumable) return;
    const root = this.settings.recordsDir;
    for (const wf of await readdir(root).catch(() => [] as string[])) {
      const dir = path.join(root, wf);
      if (this.workflowRecords.has(dir)) continue;
      let owner: RecordedWorkflow;
      try {
        owner = JSON.parse(readFileSync(path.join(dir, "workflow.json"), "utf8")) as RecordedWorkflow;
      } catch {
        continue;
      }
      if (recordedProcessesAlive(dir)) continue;
      if (await resumable(owner).catch(() => true)) continue;
      if (this.workflowRecords.has(dir)) continue;
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Step roots that a step's records name (`step.json`): a resumed run may still read them. */
  private recordedRoots(): Set<string> {
    const roots = new Set<string>();
    const list = (dir: string): string[] => {
      try {
        return readdirSync(dir);
      } catch {
        return [];
      }
    };
    for (const wf of list(this.settings.recordsDir)) {
      for (const node of list(path.join(this.settings.recordsDir, wf))) {
        try {
          const meta = JSON.parse(
            readFileSync(path.join(this.settings.recordsDir, wf, node, "step.json"), "utf8"),
          ) as { dir?: string };
          if (meta.dir) roots.add(path.dirname(meta.dir));
        } catch {
          // no step folder recorded
        }
      }
    }
    return roots;
  }

  // ---------------------------------------------------------------------------------------------------
  // Planning: everything that can be checked before a process runs, so start() throws for it.

  planContainer(request: StepRequest, container: ContainerToPlan): HostContainer {
    const { spec: c, name, role } = container;
    const image = findImageConfig(this.settings.images, c.image);
    const argv = containerArgv(
      c,
      image,
      container.extraArgs,
      role === "init" ? "init container" : "container",
    );
    const env = this.environment(request, c, image, name);
    this.assertCommandExists(argv[0]!, env.PATH ?? "", c, name);
    // As a pod starts in its image's WORKDIR, a step without `workingDir` starts in the image's
    // `host.workingDir` when the images config gives one, else in the workspace (the checkout, for CI
    // runs), which a sandbox binds at its own path.
    const cwd =
      c.workingDir ?? image?.host?.workingDir ?? (request.workspace ? path.resolve(request.workspace) : "/");
    return { name, role, spec: c, argv, env, cwd, dependencies: container.dependencies };
  }

  private environment(
    request: StepRequest,
    c: Container,
    image: ImageConfig | undefined,
    name: string,
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
    return containerEnv(c, env, {
      namespace: request.namespace,
      containerName: name,
      configMaps: request.configMaps,
      secrets: request.secrets,
    });
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

  /** A step folder: a spare one left clean by an earlier step, else a new one. */
  async stepDir(podName: string): Promise<string> {
    const root = await this.workRoot();
    return this.spareDirs.pop() ?? (await mkdtemp(path.join(root, `${safeName(podName)}-`)));
  }

  /** Keeps a step folder for the next step when it is clean and `reusable`, else removes it. */
  async releaseStepDir(dir: string, reusable: boolean): Promise<void> {
    if (reusable && this.spareDirs.length < MAX_SPARE_DIRS && isCleanStepDir(dir)) this.spareDirs.push(dir);
    else await this.removeLater(dir);
  }

  /** The host folder holding a volume's contents (made on first use by the layout). */
  volumeHostPath(request: StepRequest, root: string, dir: string, v: VolumeMountPlan): string {
    const src = v.source;
    let base: string;
    if (src.kind === "host") base = src.path;
    else if (src.kind === "claim" && src.scope === "existing")
      base = path.join(this.settings.volumesDir, safeName(src.claimName));
    else if (src.kind === "claim") {
      const wf = `${safeName(request.workflowName)}-${safeName(request.workflowUid)}`;
      base = path.join(root, "workflows", wf, "claims", safeName(src.claimName));
    } else base = path.join(dir, "volumes", safeName(src.name));
    return v.subPath ? path.join(base, v.subPath) : base;
  }

  /** The sandbox of a step: what is bound where, and how paths inside map to the host. */
  layoutFor(
    step: PodStep<HostContainer>,
    rootFsDir: string | undefined,
    root: string,
    dir: string,
  ): SandboxLayout {
    const { request, plans } = step;
    const t = request.template;
    const binds: Bind[] = step.volumes.map((v) => ({
      mountPath: v.mountPath,
      hostPath: this.volumeHostPath(request, root, dir, v),
      readOnly: v.readOnly,
    }));
    // Relative paths of the template (artifacts, output parameters) are the main container's, as in a pod.
    const cwd = (plans.find((p) => p.role === "main") ?? plans[0])?.cwd ?? "/";
    if (!this.settings.bwrapPath) {
      // Without a sandbox, volumes are the host paths themselves, and scripts live in the step folder.
      return createHostLayout({
        binds: dir ? [{ mountPath: SCRIPT_DIR, hostPath: path.join(dir, "staging") }] : [],
        cwd,
      });
    }
    const named: NamedPath[] = [{ path: SCRIPT_DIR, replace: true }];
    for (const a of request.inputArtifacts) if (a.path) named.push({ path: a.path, replace: true });
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
      for (const d of findImageConfig(this.settings.images, p.spec.image)?.host?.path ?? []) {
        const abs = path.resolve("/", d);
        const underPrivate = ["/tmp", "/var/tmp"].some((t) => abs === t || abs.startsWith(t + "/"));
        if (d && underPrivate && existsSync(abs) && !binds.some((b) => b.mountPath === abs)) {
          binds.push({ mountPath: abs, hostPath: abs, readOnly: true });
        }
      }
    }
    const opts: Parameters<typeof createBwrapLayout>[0] = { stepDir: dir, binds, namedPaths: named, cwd };
    if (rootFsDir) opts.rootDir = rootFsDir;
    if (request.workspace) opts.workspace = path.resolve(request.workspace);
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
}

/** Whether a process a workflow's records name (a step supervisor, a step's process group) still runs. */
function recordedProcessesAlive(dir: string): boolean {
  const list = (d: string): string[] => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  };
  for (const name of list(dir)) {
    if (name.endsWith(".launch")) {
      try {
        const { supervisor } = JSON.parse(readFileSync(path.join(dir, name), "utf8")) as {
          supervisor?: number;
        };
        if (supervisor !== undefined && processAlive(supervisor)) return true;
      } catch {
        // half written: its step never started
      }
      continue;
    }
    const node = path.join(dir, name);
    for (const f of list(node)) {
      if (!f.endsWith(".status")) continue;
      const s = readStatus(node, f.slice(0, -".status".length));
      if (s && (processAlive(s.supervisor) || groupMembers(s.pid).length > 0)) return true;
    }
  }
  return false;
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

/** What a step can see and do without a sandbox: the `SKF-EXEC-013` warning, exactly. */
export function unsandboxedWarning(inheritEnv: readonly string[]): string {
  const user = process.env.USER ?? process.getuid?.() ?? "this user";
  return (
    `steps run without a sandbox (bubblewrap not used), as user ${user}: they can read and change every file ` +
    `this user can (the store, the checkout, ~/.ssh, other steps' files), see this user's processes and read ` +
    `their environment and memory through /proc (Skiff's own included: a token in its environment is readable), ` +
    `and use the network; their own environment holds only ${inheritEnv.join(", ")} from the host, the ` +
    `image's host.env, ARGO_* and the template's env; output and artifact paths (/tmp, /mnt/out...) are host ` +
    `paths, shared with other steps. Install bubblewrap for a sandbox.`
  );
}
