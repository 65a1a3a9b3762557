import { chmod, lstat, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type Docker from "dockerode";
import * as tar from "tar";
import { SkiffError } from "../../errors/index.js";
import type { TimerHandle } from "../../interfaces/clock.js";
import type { StepRequest } from "../../interfaces/executor.js";
import type { K8sObject } from "../../spec/types.js";
import {
  type ContainerExit,
  type ContainerOutput,
  type Pod,
  type PodStep,
  type RunningContainer,
  SCRIPT_PATH,
} from "../shared/index.js";
import { DOCKER_CODES } from "./codes.js";
import type { DockerContainer, DockerRuntime } from "./docker.js";
import { dockerName, resourceLimits, securitySettings } from "./spec.js";

/** Symlinks followed inside a container when copying an output out, as the kernel's own limit (40) is generous. */
const MAX_SYMLINK_HOPS = 16;

/** The containers of a step an earlier process started, as `DockerRuntime.find` found them. */
export interface FoundContainers {
  /** By their `skiff.dev/container` label. */
  containers: Map<string, Docker.ContainerInspectInfo>;
  /** When its first container started. */
  startedAtMs: number;
  /** The step's own (emptyDir) volumes. */
  stepVolumes: string[];
}

/**
 * One step's pod on a Docker engine: its containers share a network namespace held by a pause container (when
 * there is more than one), volumes are Docker volumes or binds, inputs are staged on the host and copied in,
 * outputs copied out of the stopped container.
 */
export class DockerPod implements Pod<DockerContainer> {
  readonly adopted: boolean;
  readonly startedAt?: number;
  readonly launched: Promise<void>;
  private markLaunched!: () => void;
  /** Containers created for the step, removed when it ends. */
  private readonly created = new Set<string>();
  /** Containers currently running, signalled by kill/deadline. */
  private readonly running = new Set<string>();
  /** Named volumes that live only as long as the step (emptyDir). */
  private readonly stepVolumes = new Set<string>();
  private readonly killTimers: TimerHandle[] = [];
  private dir: Promise<string> | undefined;
  /** `Binds` entries of every mount of the step. */
  private binds: string[] = [];
  /** Input artifacts and the script, staged on the host; `paths` are what to copy in, relative to `/`. */
  private staged: { root: string; paths: string[] } = { root: "", paths: [] };
  /** The container holding the step's network namespace, when it has more than one container. */
  private pause: Promise<string | undefined> | undefined;

  constructor(
    private readonly runtime: DockerRuntime,
    private readonly step: PodStep<DockerContainer>,
    /** Set when the step's containers were started by an earlier process: they are followed, not run. */
    private readonly found: FoundContainers | undefined,
  ) {
    this.launched = new Promise<void>((res) => (this.markLaunched = res));
    this.adopted = found !== undefined;
    if (found) {
      this.startedAt = found.startedAtMs;
      for (const info of found.containers.values()) this.created.add(info.Id);
      for (const n of found.stepVolumes) this.stepVolumes.add(n);
    }
  }

  private get docker(): Docker {
    return this.runtime.settings.docker;
  }

  /** The step's folder on this host: staged inputs (`in/`), copied-out outputs (`out/`), scratch. */
  async open() {
    const dir = await this.stepDir();
    const scratchDir = path.join(dir, "scratch");
    await mkdir(scratchDir, { recursive: true });
    const root = path.join(dir, "in");
    this.staged = { root: this.adopted ? dir : root, paths: [] };
    return { inputPath: (p: string) => path.join(root, path.resolve("/", p)), scratchDir };
  }

  /** Creates the step's volumes and notes the `Binds` entry of every mount, by mount path. */
  async prepareVolumes(): Promise<void> {
    const docker = this.docker;
    const { request } = this.step;
    const dir = await this.stepDir();
    await mkdir(this.staged.root, { recursive: true });
    const binds: string[] = [];
    const made = new Map<string, string>();
    for (const v of this.step.volumes) {
      const src = v.source;
      let source: string;
      if (src.kind === "host") source = src.path;
      else if (src.kind === "files") {
        source = path.join(dir, "files", dockerName(src.name));
        for (const f of src.files) {
          const file = path.join(source, f.path);
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, f.content, { mode: f.mode });
          await chmod(file, f.mode);
        }
        await mkdir(source, { recursive: true });
      } else {
        let name = made.get(v.name);
        if (!name) {
          const labels: Record<string, string> = {};
          if (src.kind === "step") {
            name = `skiff-${dockerName(request.podName)}-${dockerName(v.name)}-${randomSuffix()}`;
            Object.assign(labels, this.runtime.labels(request, v.name));
            this.stepVolumes.add(name);
          } else if (src.scope === "workflow") {
            name = `skiff-${dockerName(src.claimName)}-${dockerName(request.workflowUid).slice(0, 12)}`;
            Object.assign(labels, this.runtime.labels(request, v.name));
            this.runtime.workflowVolumes.add(name);
          } else {
            // A claim that existed before the workflow keeps its contents across workflows.
            name = `skiff-claim-${dockerName(src.claimName)}`;
            labels[this.runtime.labelNames.claim] = src.claimName;
          }
          await docker.createVolume({ Name: name, Labels: labels });
          made.set(v.name, name);
        }
        source = name;
        if (v.subPath) {
          // Engines before API 1.45 cannot mount part of a volume; the local driver's folder is bound instead.
          const info = (await docker.getVolume(name).inspect()) as { Mountpoint: string };
          source = path.join(info.Mountpoint, v.subPath);
          await mkdir(source, { recursive: true });
        }
      }
      if (src.kind === "host" && v.subPath) source = path.join(source, v.subPath);
      binds.push(`${source}:${v.mountPath}${v.readOnly ? ":ro" : ""}`);
    }
    if (request.workspace) {
      const ws = path.resolve(request.workspace);
      if (!this.step.volumes.some((v) => v.mountPath === ws)) binds.push(`${ws}:${ws}`);
    }
    this.binds = binds;
  }

  /** Notes which staged paths go into the containers. */
  async inputsPlaced(): Promise<void> {
    const { request, kind } = this.step;
    const root = this.staged.root;
    // Only the placed paths themselves go in: copying their parent folders would reset the modes of
    // folders such as /tmp in the image.
    const wanted = [
      ...request.inputArtifacts.map((a) => a.path).filter((p): p is string => p !== undefined),
      ...(kind === "script" ? [SCRIPT_PATH] : []),
    ];
    const paths: string[] = [];
    for (const p of wanted) {
      const rel = path.resolve("/", p).slice(1);
      if (!rel || paths.includes(rel)) continue;
      if (await exists(path.join(root, rel))) paths.push(rel);
    }
    this.staged.paths = paths;
  }

  /** A container's binds: only the volumes its own `volumeMounts` (or its containerSet's) name, plus the workspace. */
  private mountsFor(plan: DockerContainer): string[] {
    const { request } = this.step;
    const names = new Set<string>(
      [
        ...((plan.spec.volumeMounts ?? []) as K8sObject[]),
        ...(plan.role === "set" ? ((request.template.containerSet?.volumeMounts ?? []) as K8sObject[]) : []),
      ].map((m) => path.resolve(String(m.mountPath ?? "/"))),
    );
    const ws = request.workspace ? path.resolve(request.workspace) : undefined;
    return this.binds.filter((b) => {
      const target = bindTarget(b);
      return names.has(target) || target === ws;
    });
  }

  /** The network steps' containers join: the runtime's network, or the pause container's namespace. */
  private async networkMode(): Promise<string> {
    this.pause ??= needsPause(this.step.request)
      ? this.found
        ? Promise.resolve(this.found.containers.get("pause")?.Id)
        : this.startPause()
      : Promise.resolve(undefined);
    const id = await this.pause;
    return id ? `container:${id}` : this.runtime.settings.network;
  }

  /** Starts the container whose network namespace (and IP) the step's containers share, like a pod's pause. */
  private async startPause(): Promise<string> {
    const { request, plans } = this.step;
    const main = plans.find((p) => p.role === "main") ?? plans.find((p) => p.role === "set") ?? plans[0]!;
    const own = this.runtime.settings.pauseImage;
    const c = await this.docker.createContainer({
      name: `${dockerName(request.podName)}-pause-${randomSuffix()}`,
      Image: own ?? main.image,
      // Without a pause image, main's image idles in a shell loop; it is removed by force, never stopped.
      ...(own ? {} : { Entrypoint: ["sh", "-c", "while :; do sleep 3600; done"], Cmd: [] }),
      Labels: this.runtime.labels(request, "pause"),
      HostConfig: { NetworkMode: this.runtime.settings.network, Init: true },
    });
    this.created.add(c.id);
    this.markLaunched();
    await c.start();
    return c.id;
  }

  /** Creates, attaches to and starts one container; `done` resolves when it has exited and its logs drained. */
  async start(plan: DockerContainer, output: ContainerOutput): Promise<RunningContainer> {
    const networkMode = await this.networkMode();
    if (this.found) return this.follow(plan, this.found, output);
    const docker = this.docker;
    const { clock, settings } = this.runtime;
    const { request } = this.step;
    const t = request.template;
    const security = securitySettings(
      plan.spec.securityContext,
      (t as { securityContext?: K8sObject }).securityContext,
    );
    let created: Docker.Container;
    try {
      created = await docker.createContainer({
        name: `${dockerName(request.podName)}-${dockerName(plan.name)}-${randomSuffix()}`,
        Image: plan.image,
        ...plan.entry,
        Env: Object.entries(plan.env).map(([k, v]) => `${k}=${v}`),
        ...(plan.workingDir ? { WorkingDir: plan.workingDir } : {}),
        ...(security.User ? { User: security.User } : {}),
        Labels: this.runtime.labels(request, plan.name),
        AttachStdout: true,
        AttachStderr: true,
        // `tty: true` gives the container a terminal, as the kubelet does; its output is then one raw stream.
        Tty: plan.spec.tty === true,
        OpenStdin: false,
        HostConfig: {
          NetworkMode: networkMode,
          Binds: this.mountsFor(plan),
          Init: settings.init,
          ...resourceLimits(plan.spec, plan.name),
          ...(security.Privileged ? { Privileged: true } : {}),
          ...(security.ReadonlyRootfs ? { ReadonlyRootfs: true } : {}),
          ...(security.CapAdd ? { CapAdd: security.CapAdd } : {}),
          ...(security.CapDrop ? { CapDrop: security.CapDrop } : {}),
          ...(security.SecurityOpt ? { SecurityOpt: security.SecurityOpt } : {}),
        },
      });
    } catch (e) {
      if (e instanceof SkiffError) throw e;
      throw new SkiffError(
        DOCKER_CODES["SKF-DOCKER-003"],
        `container '${plan.name}' could not be created: ${firstLine((e as Error).message)}`,
      );
    }
    this.created.add(created.id);
    this.markLaunched();
    const running = (done: Promise<ContainerExit>): RunningContainer => ({
      id: created.id,
      done,
      terminate: () => this.terminate(created.id),
    });
    if ((plan.role === "main" || plan.role === "set") && this.staged.paths.length > 0) {
      const archive = tar.c(
        { cwd: this.staged.root, portable: true },
        this.staged.paths,
      ) as unknown as Readable;
      await created.putArchive(archive, { path: "/" });
    }
    const attached = (await created.attach({
      stream: true,
      stdout: true,
      stderr: true,
    })) as NodeJS.ReadableStream;
    const pipe = this.pipeOutput(attached, output, plan.spec.tty === true);
    const startedAt = clock.now();
    if (this.step.stop) {
      (attached as Readable).destroy?.();
      return running(
        Promise.resolve({ exitCode: null, startedAt, finishedAt: startedAt, detail: "not started" }),
      );
    }
    try {
      await created.start();
    } catch (e) {
      (attached as Readable).destroy?.();
      const msg = firstLine((e as Error).message);
      return running(Promise.resolve({ exitCode: 128, startedAt, finishedAt: clock.now(), detail: msg }));
    }
    // Asked once started: a container that already exited answers at once with its code, and no exit can
    // slip between the request and its registration as with `next-exit` asked before start.
    const waited = created.wait({ condition: "not-running" });
    this.running.add(created.id);
    // A kill that raced the start must still reach this container.
    if (this.step.stop) this.terminate(created.id);
    const done = (async (): Promise<ContainerExit> => {
      const w = await waitResult(waited);
      this.running.delete(created.id);
      const finishedAt = clock.now();
      await pipe.finish();
      let oomKilled = false;
      if (w.exitCode === 137) {
        const info = await created.inspect().catch(() => undefined);
        oomKilled = info?.State?.OOMKilled === true;
      }
      const x: ContainerExit = { exitCode: w.exitCode, startedAt, finishedAt };
      if (w.detail) x.detail = w.detail;
      if (oomKilled) x.oomKilled = true;
      return x;
    })();
    return running(done);
  }

  /**
   * Splits a container's multiplexed output stream into stdout and stderr. `finish` waits for the stream to
   * end (at most 2 s after the exit) and flushes partial lines.
   */
  private pipeOutput(
    stream: NodeJS.ReadableStream,
    output: ContainerOutput,
    tty: boolean,
  ): { finish(): Promise<void> } {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.on("data", (c: Buffer) => output.stdout(c));
    stderr.on("data", (c: Buffer) => output.stderr(c));
    const drained = new Promise<void>((resolve) => {
      const end = (): void => resolve();
      stream.on("end", end);
      stream.on("close", end);
      stream.on("error", end);
    });
    // With a terminal the engine sends one stream, not multiplexed: all of it is stdout, as in a pod's logs.
    if (tty) stream.pipe(stdout);
    else this.docker.modem.demuxStream(stream, stdout, stderr);
    return {
      finish: async () => {
        await Promise.race([drained, this.runtime.clock.sleep(2000).catch(() => undefined)]);
        stdout.end();
        stderr.end();
        output.end();
      },
    };
  }

  /**
   * Follows a container an earlier process started: its logs from the start (the engine keeps them), then
   * its exit, which the engine reports at once for a container that exited while no one watched.
   */
  private async follow(
    plan: DockerContainer,
    found: FoundContainers,
    output: ContainerOutput,
  ): Promise<RunningContainer> {
    const clock = this.runtime.clock;
    const info = found.containers.get(plan.name);
    if (!info) {
      // `find` let it through: a containerSet container whose dependency failed, never created.
      const now = clock.now();
      return {
        id: "",
        done: Promise.resolve({ exitCode: null, startedAt: now, finishedAt: now, detail: "not started" }),
        terminate: () => undefined,
      };
    }
    const container = this.docker.getContainer(info.Id);
    const logs = (await container.logs({
      follow: true,
      stdout: true,
      stderr: true,
    })) as unknown as NodeJS.ReadableStream;
    const pipe = this.pipeOutput(logs, output, plan.spec.tty === true);
    const startedAt = Date.parse(info.State.StartedAt) || clock.now();
    const waited = container.wait({ condition: "not-running" });
    if (info.State.Running) this.running.add(info.Id);
    if (this.step.stop) this.terminate(info.Id);
    const done = (async (): Promise<ContainerExit> => {
      const w = await waitResult(waited);
      this.running.delete(info.Id);
      const after = await container.inspect().catch(() => undefined);
      const finishedAt = Date.parse(after?.State.FinishedAt ?? "") || clock.now();
      await pipe.finish();
      const x: ContainerExit = { exitCode: w.exitCode, startedAt, finishedAt };
      if (w.detail) x.detail = w.detail;
      if (w.exitCode === 137 && after?.State.OOMKilled === true) x.oomKilled = true;
      return x;
    })();
    return { id: info.Id, done, terminate: () => this.terminate(info.Id) };
  }

  /** SIGTERM to every running container of the step, SIGKILL after the grace period of the executor's clock. */
  async stop(): Promise<void> {
    for (const id of this.running) this.terminate(id);
  }

  killNow(): void {
    for (const id of this.running) void this.runtime.signal(id, "SIGKILL");
  }

  private terminate(id: string): void {
    const { clock, settings } = this.runtime;
    void this.runtime.signal(id, "SIGTERM");
    this.killTimers.push(
      clock.setTimer(settings.killGracePeriodMs, () => void this.runtime.signal(id, "SIGKILL")),
    );
  }

  async outputPath(main: RunningContainer | undefined): Promise<((p: string) => string) | undefined> {
    if (!main?.id) return undefined;
    const outRoot = path.join(await this.stepDir(), "out");
    await this.copyOutputs(main.id, this.step.request, outRoot);
    return (p) => path.join(outRoot, path.resolve("/", p));
  }

  /**
   * Copies each output path out of the stopped container into `outRoot` (missing paths are left out). A path
   * that is a symlink is followed inside the container, as Argo's wait container would read it; unpacked on
   * the host as it is, a link to `/etc/...` would hand the host's file to the step's outputs.
   */
  private async copyOutputs(containerId: string, request: StepRequest, outRoot: string): Promise<void> {
    const t = request.template;
    const wanted = new Set<string>();
    for (const p of t.outputs?.parameters ?? []) if (p.valueFrom?.path) wanted.add(p.valueFrom.path);
    for (const a of t.outputs?.artifacts ?? []) if (a.path) wanted.add(a.path);
    const container = this.docker.getContainer(containerId);
    const fetchRoot = `${outRoot}.fetch`;
    await mkdir(fetchRoot, { recursive: true });
    for (const p of wanted) {
      const abs = path.posix.resolve("/", p);
      let source = abs;
      for (let hop = 0; hop < MAX_SYMLINK_HOPS; hop++) {
        let stream: NodeJS.ReadableStream;
        try {
          stream = await container.getArchive({ path: source });
        } catch (e) {
          if ((e as { statusCode?: number }).statusCode === 404) break;
          throw e;
        }
        const tmp = await mkdtemp(path.join(fetchRoot, "get-"));
        const top = path.posix.basename(source);
        let link: string | undefined;
        try {
          await pipeline(
            stream as Readable,
            tar.x({
              cwd: tmp,
              preservePaths: false,
              // node-tar would drop a link with an absolute target; the top entry's is read instead.
              filter: (p, entry) => {
                const e = entry as { type?: string; linkpath?: string };
                if (p.replace(/\/$/, "") === top && e.type === "SymbolicLink") {
                  link = e.linkpath ?? "";
                  return false;
                }
                return true;
              },
            }),
          );
          if (link !== undefined) {
            source = path.posix.resolve(path.posix.dirname(source), link);
            continue;
          }
          const entry = path.join(tmp, top);
          if (!(await exists(entry))) break;
          const dest = path.join(outRoot, abs);
          await mkdir(path.dirname(dest), { recursive: true });
          await rm(dest, { recursive: true, force: true });
          await rename(entry, dest);
          break;
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
      }
    }
  }

  /** The IP of the pause container, or of main when the step has only main. */
  async address(main: RunningContainer): Promise<string> {
    const id = (await this.pause) ?? main.id ?? "";
    return ipOf(await this.docker.getContainer(id).inspect());
  }

  async exec(_main: DockerContainer, running: RunningContainer, command: string[]): Promise<boolean> {
    const e = await this.docker
      .getContainer(running.id ?? "")
      .exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    const stream = await e.start({ hijack: true, stdin: false });
    await new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", () => resolve());
      stream.resume();
    });
    const info = await e.inspect();
    return info.ExitCode === 0;
  }

  /** The step's host folder, made on first use. */
  private stepDir(): Promise<string> {
    this.dir ??= this.runtime.stepDir(this.step.request.podName);
    return this.dir;
  }

  dataScratchDir(): Promise<string> {
    return this.stepDir();
  }

  async release(): Promise<void> {
    this.markLaunched();
    for (const t of this.killTimers) this.runtime.clock.clearTimer(t);
    await Promise.all([...this.created].map((id) => this.runtime.removeContainer(id)));
    await Promise.all([...this.stepVolumes].map((n) => this.runtime.removeVolume(n)));
    const dir = await this.dir?.catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Steps with more than one container share a network namespace held by a pause-like container. */
export function needsPause(request: StepRequest): boolean {
  const t = request.template;
  return (t.initContainers?.length ?? 0) > 0 || (t.sidecars?.length ?? 0) > 0 || t.containerSet !== undefined;
}

/** The exit code (and engine message) of a container's `wait`. */
async function waitResult(waited: Promise<unknown>): Promise<{ exitCode: number | null; detail?: string }> {
  try {
    const w = (await waited) as { StatusCode?: number; Error?: { Message?: string } | null };
    const r: { exitCode: number | null; detail?: string } = {
      exitCode: typeof w.StatusCode === "number" ? w.StatusCode : null,
    };
    if (w.Error?.Message) r.detail = w.Error.Message;
    return r;
  } catch (e) {
    return { exitCode: null, detail: firstLine((e as Error).message) };
  }
}

function bindTarget(bind: string): string {
  const parts = bind.split(":");
  return parts[1] ?? "";
}

function ipOf(info: Docker.ContainerInspectInfo): string {
  const direct = (info.NetworkSettings as { IPAddress?: string } | undefined)?.IPAddress;
  if (direct) return direct;
  for (const n of Object.values(info.NetworkSettings?.Networks ?? {})) if (n.IPAddress) return n.IPAddress;
  return "127.0.0.1";
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 8);
}

export function firstLine(s: string): string {
  return (s.split("\n").find((l) => l.trim() !== "") ?? s).trim();
}
