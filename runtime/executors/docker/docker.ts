import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type Docker from "dockerode";
import * as tar from "tar";
import { SkiffError } from "../../errors/index.js";
import type { ArtifactRepository } from "../../interfaces/artifacts.js";
import type { Clock, TimerHandle } from "../../interfaces/clock.js";
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
import { planVolumeMounts, type VolumeMountPlan } from "../shared/volumes.js";
import { EXEC_CODES } from "../shared/codes.js";
import { planPodContainers } from "../shared/containers.js";
import { runDataStep } from "../shared/data.js";
import { runHttpStep } from "../shared/http.js";
import type { ImagesConfig } from "../shared/images.js";
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
import { DOCKER_CODES } from "./codes.js";
import {
  containerEnv,
  dockerName,
  entrypointAndCmd,
  pullPolicyOf,
  resolveImage,
  resourceLimits,
  securitySettings,
  type ImageMap,
  type PullPolicy,
} from "./spec.js";

/** Labels every container and volume the executor creates carries; `cleanup()` and tests find them by these. */
export const LABELS = {
  workflow: "skiff.dev/workflow",
  workflowUid: "skiff.dev/workflow-uid",
  node: "skiff.dev/node-id",
  container: "skiff.dev/container",
  executor: "skiff.dev/executor",
  claim: "skiff.dev/claim",
} as const;

/** The executor's resolved settings. */
export interface DockerSettings {
  docker: Docker;
  imageMap: ImageMap;
  images: ImagesConfig;
  clock: Clock;
  killGracePeriodMs: number;
  readinessPollMs: number;
  /** Network of each step's first container (`bridge` by default). */
  network: string;
  /** Image of the container holding a multi-container step's network namespace; default: main's image. */
  pauseImage: string | undefined;
  /** Run Docker's init (tini) as PID 1, so signals reach the step's process as Argo's emissary forwards them. */
  init: boolean;
  /** Start containers without `workingDir` in the workspace instead of the image's WORKDIR. */
  workspaceAsWorkingDir: boolean;
  /** Host folder for staging input artifacts and unpacking outputs. */
  workDir: string;
  /** Distinguishes this executor's containers from other Skiff processes' on the same engine. */
  instanceId: string;
}

/** Symlinks followed inside a container when copying an output out, as the kernel's own limit (40) is generous. */
const MAX_SYMLINK_HOPS = 16;

/** Argo writes a script's `source` here. */
const SCRIPT_PATH = "/argo/staging/script";

type StopCause = { kind: "deadline" } | { kind: "kill"; reason: string };
type RunnableType = "container" | "script" | "containerSet" | "http" | "data";
const RUNNABLE: ReadonlySet<TemplateType> = new Set<RunnableType>([
  "container",
  "script",
  "containerSet",
  "http",
  "data",
]);

interface ContainerPlan {
  name: string;
  role: "init" | "main" | "sidecar" | "set";
  spec: Container;
  image: string;
  policy: PullPolicy;
  dependencies: string[];
  entry: { Entrypoint?: string[]; Cmd?: string[] };
  env: Record<string, string>;
  workingDir: string | undefined;
}

interface StepState {
  readonly handle: StepHandle;
  readonly request: StepRequest;
  readonly logs: LogStream;
  readonly abort: AbortController;
  readonly volumes: VolumeMountPlan[];
  /** Containers created for the step, removed when it ends. */
  readonly created: Set<string>;
  /** Containers currently running, signalled by kill/deadline. */
  readonly running: Set<string>;
  /** Named volumes that live only as long as the step (emptyDir). */
  readonly stepVolumes: Set<string>;
  killTimers: TimerHandle[];
  dir?: string;
  stop?: StopCause;
  result: Promise<StepResult>;
  ready: Promise<DaemonReady>;
  resolveReady(r: DaemonReady): void;
  rejectReady(e: unknown): void;
  /** Resolves once the step's first container exists (or the step ended): a recovery can find it then. */
  launched: Promise<void>;
  markLaunched(): void;
}

interface ContainerExit {
  exitCode: number | null;
  startedAt: number;
  finishedAt: number;
  detail?: string;
  oomKilled?: boolean;
}

let nextStepId = 1;

/** Runs each leaf step as a group of Docker containers, like a pod; see README.md beside this file. */
export class DockerExecutor implements Executor {
  readonly name = "docker";
  readonly capabilities: ExecutorCapabilities = { resource: false, containers: true };
  private readonly steps = new Map<string, StepState>();
  private readonly host = hostname();
  private engineChecked: Promise<void> | undefined;
  /** Claim volumes made for workflows (removed by cleanup), by volume name. */
  private readonly workflowVolumes = new Set<string>();
  /** Workflows (by uid) whose steps were re-attached: cleanup() removes all they left. */
  private readonly adoptedWorkflows = new Set<string>();
  private rootDir: Promise<string> | undefined;

  constructor(private readonly settings: DockerSettings) {}

  /** The value of the `skiff.dev/executor` label on everything this executor creates. */
  get instanceId(): string {
    return this.settings.instanceId;
  }

  async start(request: StepRequest): Promise<StepHandle> {
    const type = templateTypeOf(request.template);
    if (!type || !RUNNABLE.has(type)) {
      throw new SkiffError(
        EXEC_CODES["SKF-EXEC-003"],
        `template '${request.templateName}' is a ${type ?? "template without a runnable block"}, which the Docker executor cannot run`,
      );
    }
    const kind = type as RunnableType;
    const plans = kind === "http" || kind === "data" ? [] : this.planContainers(request, kind);
    const volumes = planVolumeMounts(request, [
      ...((request.template.containerSet?.volumeMounts ?? []) as K8sObject[]),
      ...plans.flatMap((p) => (p.spec.volumeMounts ?? []) as K8sObject[]),
    ]);
    if (plans.length > 0) {
      await this.checkEngine();
      const images = new Map<string, PullPolicy>();
      for (const p of plans) {
        const prev = images.get(p.image);
        if (prev !== "Always") images.set(p.image, p.policy);
      }
      for (const [image, policy] of images) await this.ensureImage(image, policy);
      if (this.settings.pauseImage && needsPause(request)) {
        await this.ensureImage(this.settings.pauseImage, "IfNotPresent");
      }
    }
    const state = this.newState(request, volumes);
    this.track(state, this.runStep(state, kind, plans));
    // Returning only once a container exists means a node stored as Running has something to re-attach
    // to; while inputs are staged it is still Pending, as in Argo while the init container loads them.
    if (plans.length > 0) await state.launched;
    return state.handle;
  }

  /**
   * Finds the containers an earlier Skiff process started for this step (by the `skiff.dev/workflow-uid` and
   * `skiff.dev/node-id` labels, whatever executor instance made them) and follows them: logs from their
   * start, their exits, outputs copied out as usual, everything removed when the step ends. A step whose
   * main never started (caught while staging or in its init containers) is removed and started afresh.
   * `undefined` (after removing what was found) when no container of the step exists, or main started but
   * not every container the step needs did (a containerSet caught half-way): the step is lost. A data step is
   * run again: it is a pure function of its inputs. HTTP steps ran inside the dead process: `undefined`.
   */
  async attach(request: StepRequest): Promise<StepHandle | undefined> {
    const type = templateTypeOf(request.template);
    if (type === "data") return this.start(request);
    if (type !== "container" && type !== "script" && type !== "containerSet") return undefined;
    await this.checkEngine();
    const docker = this.settings.docker;
    // Whatever else that process left of the workflow is removed by cleanup().
    this.adoptedWorkflows.add(request.workflowUid);
    const filters = JSON.stringify({
      label: [`${LABELS.workflowUid}=${request.workflowUid}`, `${LABELS.node}=${request.nodeId}`],
    });
    const infos = new Map<string, Docker.ContainerInspectInfo>();
    let stepVolumes: string[];
    try {
      for (const c of await docker.listContainers({ all: true, filters })) {
        const info = await docker.getContainer(c.Id).inspect();
        const name = info.Config.Labels?.[LABELS.container];
        if (name !== undefined) infos.set(name, info);
      }
      // Workflow claim volumes carry the node label of the step that made them; they outlive the step.
      const prefix = `skiff-${dockerName(request.podName)}-`;
      const vols = (await docker.listVolumes({ filters })).Volumes ?? [];
      stepVolumes = vols.map((v) => v.Name).filter((n) => n.startsWith(prefix));
    } catch (e) {
      throw new SkiffError(
        DOCKER_CODES["SKF-DOCKER-005"],
        `could not look for the containers of step '${request.nodeName}': ${firstLine((e as Error).message)}`,
      );
    }
    let plans: ContainerPlan[] | undefined;
    try {
      plans = this.planContainers(request, type);
    } catch {
      plans = undefined;
    }
    const mainStarted = plans?.some(
      (p) => (p.role === "main" || p.role === "set") && hasStarted(infos, p.name),
    );
    if (!plans || !mainStarted || !isAttachable(request, plans, infos)) {
      await Promise.all([...infos.values()].map((i) => this.removeContainer(i.Id)));
      await Promise.all(stepVolumes.map((n) => this.removeVolume(n)));
      // Caught before main ran (staging, init containers): nothing of the step's own work was done, and init
      // containers are idempotent by contract, so it starts afresh.
      if (plans && infos.size > 0 && !mainStarted) return this.start(request);
      return undefined;
    }
    const state = this.newState(request, []);
    for (const info of infos.values()) state.created.add(info.Id);
    for (const n of stepVolumes) state.stepVolumes.add(n);
    const startedAt = Math.min(...[...infos.values()].map((i) => Date.parse(i.State.StartedAt)));
    this.track(state, this.runStep(state, type, plans, { containers: infos, startedAtMs: startedAt }));
    return state.handle;
  }

  private newState(request: StepRequest, volumes: VolumeMountPlan[]): StepState {
    const handle: StepHandle = { id: `docker-${nextStepId++}`, nodeId: request.nodeId };
    let resolveReady!: (r: DaemonReady) => void;
    let rejectReady!: (e: unknown) => void;
    const ready = new Promise<DaemonReady>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    ready.catch(() => undefined);
    let markLaunched!: () => void;
    const launched = new Promise<void>((res) => (markLaunched = res));
    const state: StepState = {
      handle,
      request,
      logs: new LogStream(),
      abort: new AbortController(),
      volumes,
      created: new Set(),
      running: new Set(),
      stepVolumes: new Set(),
      killTimers: [],
      result: Promise.resolve(undefined as unknown as StepResult),
      ready,
      resolveReady,
      rejectReady,
      launched,
      markLaunched,
    };
    this.steps.set(handle.id, state);
    return state;
  }

  private track(state: StepState, result: Promise<StepResult>): void {
    state.result = result.finally(() => {
      state.markLaunched();
      state.logs.close();
      state.rejectReady(
        new SkiffError(EXEC_CODES["SKF-EXEC-008"], `daemon step '${state.request.nodeName}' ended`),
      );
    });
    state.result.catch(() => undefined);
  }

  async ready(handle: StepHandle): Promise<DaemonReady> {
    return this.stateOf(handle).ready;
  }

  async wait(handle: StepHandle): Promise<StepResult> {
    return this.stateOf(handle).result;
  }

  logs(handle: StepHandle): AsyncIterable<LogLine> {
    return this.stateOf(handle).logs.read();
  }

  async kill(handle: StepHandle, reason: string): Promise<void> {
    const state = this.stateOf(handle);
    state.stop ??= { kind: "kill", reason };
    this.stopContainers(state);
    await state.result.catch(() => undefined);
  }

  async cleanup(): Promise<void> {
    const states = [...this.steps.values()];
    for (const s of states) {
      s.stop ??= { kind: "kill", reason: "executor cleaned up" };
      s.abort.abort();
      for (const id of s.running) void this.signal(id, "SIGKILL");
    }
    await Promise.all(states.map((s) => s.result.catch(() => undefined)));
    this.steps.clear();
    if (this.engineChecked) {
      const docker = this.settings.docker;
      // Anything a step could not remove itself (an engine error mid-way) is found by label.
      const filters = JSON.stringify({ label: [`${LABELS.executor}=${this.settings.instanceId}`] });
      const left = await docker.listContainers({ all: true, filters }).catch(() => []);
      await Promise.all(left.map((c) => this.removeContainer(c.Id)));
      const vols = await docker.listVolumes({ filters }).catch(() => ({ Volumes: [] }));
      const names = new Set([...this.workflowVolumes, ...(vols.Volumes ?? []).map((v) => v.Name)]);
      await Promise.all([...names].map((n) => this.removeVolume(n)));
      this.workflowVolumes.clear();
      // What a dead process left of a workflow this one recovered carries that process's executor label.
      for (const uid of this.adoptedWorkflows) {
        const byUid = JSON.stringify({ label: [`${LABELS.workflowUid}=${uid}`] });
        const cs = await docker.listContainers({ all: true, filters: byUid }).catch(() => []);
        await Promise.all(cs.map((c) => this.removeContainer(c.Id)));
        const vs = await docker.listVolumes({ filters: byUid }).catch(() => ({ Volumes: [] }));
        await Promise.all((vs.Volumes ?? []).map((v) => this.removeVolume(v.Name)));
      }
      if (this.adoptedWorkflows.size > 0) await this.removeDeadProcessFolders();
      this.adoptedWorkflows.clear();
    }
    if (this.rootDir) {
      const dir = await this.rootDir.catch(() => undefined);
      this.rootDir = undefined;
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  /** Step folders that killed processes left in the work folder (named `skiff-docker-<pid>-...`). */
  private async removeDeadProcessFolders(): Promise<void> {
    const names = await readdir(this.settings.workDir).catch(() => [] as string[]);
    for (const name of names) {
      const pid = Number(/^skiff-docker-(\d+)-/.exec(name)?.[1]);
      if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
      await rm(path.join(this.settings.workDir, name), { recursive: true, force: true });
    }
  }

  private stateOf(handle: StepHandle): StepState {
    const s = this.steps.get(handle.id);
    if (!s) throw new SkiffError(EXEC_CODES["SKF-EXEC-005"], `unknown step handle '${handle.id}'`);
    return s;
  }

  // ---------------------------------------------------------------------------------------------------
  // Engine and images

  private checkEngine(): Promise<void> {
    this.engineChecked ??= this.settings.docker.ping().then(
      () => undefined,
      (e: unknown) => {
        this.engineChecked = undefined;
        throw new SkiffError(
          DOCKER_CODES["SKF-DOCKER-001"],
          `the Docker engine does not answer: ${(e as Error).message}`,
        );
      },
    );
    return this.engineChecked;
  }

  private async ensureImage(image: string, policy: PullPolicy): Promise<void> {
    const docker = this.settings.docker;
    let present = true;
    if (policy !== "Always") {
      present = await docker
        .getImage(image)
        .inspect()
        .then(
          () => true,
          () => false,
        );
      if (present) return;
      if (policy === "Never") {
        throw new SkiffError(
          DOCKER_CODES["SKF-DOCKER-002"],
          `image '${image}' is not present and its imagePullPolicy is Never`,
        );
      }
    }
    try {
      const stream = (await docker.pull(image)) as Readable;
      await new Promise<void>((resolve, reject) => {
        docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
          const failed = err ?? output.find((o) => o.error);
          if (failed) reject(new Error(err ? err.message : String((failed as { error?: string }).error)));
          else resolve();
        });
      });
    } catch (e) {
      throw new SkiffError(
        DOCKER_CODES["SKF-DOCKER-002"],
        `failed to pull image '${image}' (imagePullPolicy ${policy}): ${firstLine((e as Error).message)}`,
      );
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Planning: everything that can be checked before a container runs, so start() throws for it.

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
      const base: Record<string, string> = { ...request.env };
      if (request.workspace) base.SKIFF_WORKSPACE = path.resolve(request.workspace);
      const env = containerEnv(c, base, request.configMaps, request.secrets);
      const image = c.image ?? "";
      if (!image) {
        throw new SkiffError(
          DOCKER_CODES["SKF-DOCKER-002"],
          `${role === "init" ? "init container" : "container"} '${name}' of template '${request.templateName}' names no image`,
          { hint: "Give the container an `image:`; the Docker executor runs every container from one." },
        );
      }
      return {
        name,
        role,
        spec: c,
        image: resolveImage(this.settings.imageMap, image),
        policy: pullPolicyOf(c),
        dependencies: (c as { dependencies?: string[] }).dependencies ?? [],
        entry: entrypointAndCmd(c, this.settings.images, extra),
        env,
        // Argo starts a container in its image's WORKDIR; starting in the workspace is an opt-in.
        workingDir:
          c.workingDir ??
          (request.workspace && this.settings.workspaceAsWorkingDir
            ? path.resolve(request.workspace)
            : undefined),
      };
    };
    return planPodContainers(t, kind, SCRIPT_PATH, plan);
  }

  // ---------------------------------------------------------------------------------------------------
  // Running

  private async runStep(
    state: StepState,
    kind: RunnableType,
    plans: ContainerPlan[],
    attached?: AttachedPod,
  ): Promise<StepResult> {
    const clock = this.settings.clock;
    const startedAt = clock.now();
    const timer =
      state.request.deadline !== undefined
        ? clock.setTimer(state.request.deadline - startedAt, () => {
            state.stop ??= { kind: "deadline" };
            this.stopContainers(state);
          })
        : undefined;
    try {
      if (kind === "http" || kind === "data") {
        const r =
          kind === "http"
            ? await runHttpStep(state.request, { clock, signal: state.abort.signal })
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
        applyStop(state, result);
        return result;
      }
      return await this.runPod(state, kind, plans, attached?.startedAtMs ?? startedAt, attached);
    } catch (e) {
      const result: StepResult = {
        phase: "Error",
        message: (e as Error).message,
        exitCode: null,
        outputs: {},
        startedAt: iso(startedAt),
        finishedAt: iso(clock.now()),
        hostNodeName: this.host,
      };
      applyStop(state, result);
      return result;
    } finally {
      if (timer) clock.clearTimer(timer);
      state.abort.abort();
      for (const t of state.killTimers) clock.clearTimer(t);
      await Promise.all([...state.created].map((id) => this.removeContainer(id)));
      await Promise.all([...state.stepVolumes].map((n) => this.removeVolume(n)));
      if (state.dir) await rm(state.dir, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  private async runPod(
    state: StepState,
    kind: RunnableType,
    plans: ContainerPlan[],
    startedAtMs: number,
    attached?: AttachedPod,
  ): Promise<StepResult> {
    const { request } = state;
    const clock = this.settings.clock;
    const dir = await this.stepDir(state);
    const scratch = path.join(dir, "scratch");
    await mkdir(scratch, { recursive: true });
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
      applyStop(state, r);
      return r;
    };

    // Argo's init container: input artifacts and the script file, staged on the host and copied in.
    let binds: string[] = [];
    let staged: { root: string; paths: string[] } = { root: dir, paths: [] };
    try {
      if (!attached) {
        binds = await this.prepareVolumes(state, dir);
        staged = await this.stageInputs(state, kind, dir, scratch);
      }
    } catch (e) {
      const msg = e instanceof InputLoadError ? e.message : `failed to prepare step: ${(e as Error).message}`;
      return fail("Error", containerFailureMessage("init", 1, msg), []);
    }

    let networkMode = this.settings.network;
    let ipContainer: string | undefined;
    if (needsPause(request)) {
      ipContainer = attached?.containers.get("pause")?.Id ?? (await this.startPause(state, plans));
      networkMode = `container:${ipContainer}`;
    }
    const ctx: PodContext = { binds, networkMode, staged, ...(attached ? { attached } : {}) };

    const containers: ContainerResult[] = [];
    for (const p of plans.filter((x) => x.role === "init")) {
      if (state.stop) break;
      const x = await this.runContainer(state, p, ctx, undefined).then((r) => r.done);
      containers.push(containerResultOf(p.name, x.exitCode, iso(x.startedAt), iso(x.finishedAt)));
      if (x.exitCode !== 0) {
        return fail("Error", containerFailureMessage(p.name, x.exitCode, x.detail), containers);
      }
    }
    if (state.stop) return fail("Failed", "", containers);

    const sidecars: { plan: ContainerPlan; run: RunningContainer }[] = [];
    for (const p of plans.filter((x) => x.role === "sidecar")) {
      sidecars.push({ plan: p, run: await this.runContainer(state, p, ctx, undefined) });
    }

    const capture = request.captureResult ? new TailBuffer() : undefined;
    let mainExit: ContainerExit;
    let mainId: string | undefined;
    let mainFailure: { phase: StepResult["phase"]; message: string } | undefined;
    if (kind === "containerSet") {
      const set = await this.runContainerSet(
        state,
        plans.filter((p) => p.role === "set"),
        ctx,
        capture,
      );
      containers.push(...set.results);
      mainExit = set.mainExit;
      mainId = set.mainId;
      const failed = set.results.find((c) => c.phase !== "Succeeded");
      if (failed)
        mainFailure = {
          phase: "Failed",
          message: failed.message ?? containerFailureMessage(failed.name, failed.exitCode),
        };
    } else {
      const main = plans.find((p) => p.role === "main")!;
      const run = await this.runContainer(state, main, ctx, capture);
      mainId = run.id;
      if (request.daemon) void this.watchReadiness(state, main, run, ipContainer ?? run.id);
      const x = await run.done;
      mainExit = x;
      containers.push(containerResultOf("main", x.exitCode, iso(x.startedAt), iso(x.finishedAt)));
      if (x.exitCode !== 0) {
        mainFailure = {
          phase: "Failed",
          message: x.oomKilled
            ? `main: OOMKilled (exit code ${x.exitCode ?? "unknown"})`
            : containerFailureMessage("main", x.exitCode, x.detail),
        };
      }
    }

    for (const s of sidecars) this.terminate(state, s.run.id);
    for (const s of sidecars) {
      const x = await s.run.done;
      containers.push(containerResultOf(s.plan.name, x.exitCode, iso(x.startedAt), iso(x.finishedAt)));
      if (!mainFailure && x.exitCode !== 0 && !isIgnoredSidecarExit(x.exitCode)) {
        mainFailure = {
          phase: "Failed",
          message: containerFailureMessage(s.plan.name, x.exitCode, x.detail),
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
    if (!state.stop && mainId) {
      try {
        const outRoot = path.join(dir, "out");
        await this.copyOutputs(mainId, request, outRoot);
        const octx = {
          hostPath: (p: string) => path.join(outRoot, path.resolve("/", p)),
          keyPrefix: request.artifactKeyPrefix,
          scratchDir: scratch,
          ...(request.artifactRepository
            ? { repository: request.artifactRepository as ArtifactRepository }
            : {}),
        };
        const params = await collectOutputParameters(request.template, octx);
        if (params.length) result.outputs.parameters = params;
        const arts = await saveOutputArtifacts(request.template, octx);
        if (arts.length) result.outputs.artifacts = arts;
      } catch (e) {
        if (!mainFailure) {
          result.phase = "Error";
          result.message =
            e instanceof OutputCollectionError
              ? e.message
              : `failed to collect outputs: ${(e as Error).message}`;
        }
      }
    }
    if (request.daemon && result.phase === "Succeeded" && !state.stop) {
      // A daemon that exits on its own has failed (§1.5).
      result.phase = "Failed";
      result.message = "daemon exited";
    }
    result.finishedAt = iso(clock.now());
    applyStop(state, result);
    return result;
  }

  private async runContainerSet(
    state: StepState,
    plans: ContainerPlan[],
    ctx: PodContext,
    capture: TailBuffer | undefined,
  ): Promise<{ results: ContainerResult[]; mainExit: ContainerExit; mainId: string | undefined }> {
    const done = new Map<string, Promise<ContainerResult>>();
    const now = this.settings.clock.now();
    let mainExit: ContainerExit = { exitCode: null, startedAt: now, finishedAt: now };
    let mainId: string | undefined;
    let lastId: string | undefined;
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
        const c = await this.runContainer(state, p, ctx, p.name === "main" ? capture : undefined);
        const x = await c.done;
        lastId = c.id;
        if (p.name === "main") {
          mainExit = x;
          mainId = c.id;
        }
        const res = containerResultOf(p.name, x.exitCode, iso(x.startedAt), iso(x.finishedAt));
        if (x.detail && res.message) res.message += `: ${x.detail}`;
        return res;
      })();
      done.set(p.name, r);
      return r;
    };
    const results = await Promise.all(plans.map(run));
    if (!plans.some((p) => p.name === "main")) {
      const last = results[results.length - 1];
      const t = this.settings.clock.now();
      mainExit = { exitCode: last?.exitCode ?? null, startedAt: t, finishedAt: t };
      mainId = lastId;
    }
    return { results, mainExit, mainId };
  }

  /** Creates, attaches to and starts one container; `done` resolves when it has exited and its logs drained. */
  private async runContainer(
    state: StepState,
    plan: ContainerPlan,
    ctx: PodContext,
    capture: TailBuffer | undefined,
  ): Promise<RunningContainer> {
    if (ctx.attached) return this.followContainer(state, plan, ctx.attached, capture);
    const docker = this.settings.docker;
    const clock = this.settings.clock;
    const { request } = state;
    const t = request.template;
    const security = securitySettings(
      plan.spec.securityContext,
      (t as { securityContext?: K8sObject }).securityContext,
    );
    const mounts = this.mountsFor(state, plan, ctx.binds);
    let created: Docker.Container;
    try {
      created = await docker.createContainer({
        name: `${dockerName(request.podName)}-${dockerName(plan.name)}-${randomSuffix()}`,
        Image: plan.image,
        ...plan.entry,
        Env: Object.entries(plan.env).map(([k, v]) => `${k}=${v}`),
        ...(plan.workingDir ? { WorkingDir: plan.workingDir } : {}),
        ...(security.User ? { User: security.User } : {}),
        Labels: this.labels(request, plan.name),
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        OpenStdin: false,
        HostConfig: {
          NetworkMode: ctx.networkMode,
          Binds: mounts,
          Init: this.settings.init,
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
    state.created.add(created.id);
    state.markLaunched();
    if ((plan.role === "main" || plan.role === "set") && ctx.staged.paths.length > 0) {
      const archive = tar.c(
        { cwd: ctx.staged.root, portable: true },
        ctx.staged.paths,
      ) as unknown as Readable;
      await created.putArchive(archive, { path: "/" });
    }
    const attached = (await created.attach({
      stream: true,
      stdout: true,
      stderr: true,
    })) as NodeJS.ReadableStream;
    const output = this.pipeOutput(state, plan, attached, capture);
    const startedAt = clock.now();
    if (state.stop) {
      (attached as Readable).destroy?.();
      return {
        id: created.id,
        done: Promise.resolve({ exitCode: null, startedAt, finishedAt: startedAt, detail: "not started" }),
      };
    }
    try {
      await created.start();
    } catch (e) {
      (attached as Readable).destroy?.();
      const msg = firstLine((e as Error).message);
      return {
        id: created.id,
        done: Promise.resolve({ exitCode: 128, startedAt, finishedAt: clock.now(), detail: msg }),
      };
    }
    // Asked once started: a container that already exited answers at once with its code, and no exit can
    // slip between the request and its registration as with `next-exit` asked before start.
    const waited = created.wait({ condition: "not-running" });
    state.running.add(created.id);
    // A kill that raced the start must still reach this container.
    if (state.stop) this.terminate(state, created.id);
    const done = (async (): Promise<ContainerExit> => {
      let exitCode: number | null = null;
      let detail: string | undefined;
      try {
        const w = (await waited) as { StatusCode?: number; Error?: { Message?: string } | null };
        exitCode = typeof w.StatusCode === "number" ? w.StatusCode : null;
        if (w.Error?.Message) detail = w.Error.Message;
      } catch (e) {
        detail = firstLine((e as Error).message);
      }
      state.running.delete(created.id);
      const finishedAt = clock.now();
      await output.finish();
      let oomKilled = false;
      if (exitCode === 137) {
        const info = await created.inspect().catch(() => undefined);
        oomKilled = info?.State?.OOMKilled === true;
      }
      const x: ContainerExit = { exitCode, startedAt, finishedAt };
      if (detail) x.detail = detail;
      if (oomKilled) x.oomKilled = true;
      return x;
    })();
    return { id: created.id, done };
  }

  /**
   * Splits a container's multiplexed output stream into log lines of the step (stdout also into the result
   * capture). `finish` waits for the stream to end (at most 2 s after the exit) and flushes partial lines.
   */
  private pipeOutput(
    state: StepState,
    plan: ContainerPlan,
    stream: NodeJS.ReadableStream,
    capture: TailBuffer | undefined,
  ): { finish(): Promise<void> } {
    const clock = this.settings.clock;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const line = (name: "stdout" | "stderr") =>
      new LineSplitter((text) =>
        state.logs.push({
          nodeId: state.request.nodeId,
          container: plan.name,
          stream: name,
          time: iso(clock.now()),
          text,
        }),
      );
    const out = line("stdout");
    const err = line("stderr");
    stdout.on("data", (c: Buffer) => {
      capture?.write(c);
      out.write(c);
    });
    stderr.on("data", (c: Buffer) => err.write(c));
    const drained = new Promise<void>((resolve) => {
      const end = (): void => resolve();
      stream.on("end", end);
      stream.on("close", end);
      stream.on("error", end);
    });
    this.settings.docker.modem.demuxStream(stream, stdout, stderr);
    return {
      finish: async () => {
        await Promise.race([drained, clock.sleep(2000).catch(() => undefined)]);
        stdout.end();
        stderr.end();
        out.end();
        err.end();
      },
    };
  }

  /**
   * Follows a container an earlier process started: its logs from the start (the engine keeps them), then
   * its exit, which the engine reports at once for a container that exited while no one watched.
   */
  private async followContainer(
    state: StepState,
    plan: ContainerPlan,
    attached: AttachedPod,
    capture: TailBuffer | undefined,
  ): Promise<RunningContainer> {
    const clock = this.settings.clock;
    const info = attached.containers.get(plan.name);
    if (!info) {
      // isAttachable let it through: a containerSet container whose dependency failed, never created.
      const now = clock.now();
      return {
        id: "",
        done: Promise.resolve({ exitCode: null, startedAt: now, finishedAt: now, detail: "not started" }),
      };
    }
    const container = this.settings.docker.getContainer(info.Id);
    const logs = (await container.logs({
      follow: true,
      stdout: true,
      stderr: true,
    })) as unknown as NodeJS.ReadableStream;
    const output = this.pipeOutput(state, plan, logs, capture);
    const startedAt = Date.parse(info.State.StartedAt) || clock.now();
    const waited = container.wait({ condition: "not-running" });
    if (info.State.Running) state.running.add(info.Id);
    if (state.stop) this.terminate(state, info.Id);
    const done = (async (): Promise<ContainerExit> => {
      let exitCode: number | null = null;
      let detail: string | undefined;
      try {
        const w = (await waited) as { StatusCode?: number; Error?: { Message?: string } | null };
        exitCode = typeof w.StatusCode === "number" ? w.StatusCode : null;
        if (w.Error?.Message) detail = w.Error.Message;
      } catch (e) {
        detail = firstLine((e as Error).message);
      }
      state.running.delete(info.Id);
      const after = await container.inspect().catch(() => undefined);
      const finishedAt = Date.parse(after?.State.FinishedAt ?? "") || clock.now();
      await output.finish();
      const x: ContainerExit = { exitCode, startedAt, finishedAt };
      if (detail) x.detail = detail;
      if (exitCode === 137 && after?.State.OOMKilled === true) x.oomKilled = true;
      return x;
    })();
    return { id: info.Id, done };
  }

  /** Starts the container whose network namespace (and IP) the step's containers share, like a pod's pause. */
  private async startPause(state: StepState, plans: ContainerPlan[]): Promise<string> {
    const docker = this.settings.docker;
    const main = plans.find((p) => p.role === "main") ?? plans.find((p) => p.role === "set") ?? plans[0]!;
    const own = this.settings.pauseImage;
    const c = await docker.createContainer({
      name: `${dockerName(state.request.podName)}-pause-${randomSuffix()}`,
      Image: own ?? main.image,
      // Without a pause image, main's image idles in a shell loop; it is removed by force, never stopped.
      ...(own ? {} : { Entrypoint: ["sh", "-c", "while :; do sleep 3600; done"], Cmd: [] }),
      Labels: this.labels(state.request, "pause"),
      HostConfig: { NetworkMode: this.settings.network, Init: true },
    });
    state.created.add(c.id);
    state.markLaunched();
    await c.start();
    return c.id;
  }

  private labels(request: StepRequest, container: string): Record<string, string> {
    return {
      [LABELS.workflow]: request.workflowName,
      [LABELS.workflowUid]: request.workflowUid,
      [LABELS.node]: request.nodeId,
      [LABELS.container]: container,
      [LABELS.executor]: this.settings.instanceId,
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Files: volumes, inputs, outputs

  /** Creates the step's volumes; returns the `Binds` entries of every mount, by mount path. */
  private async prepareVolumes(state: StepState, dir: string): Promise<string[]> {
    const docker = this.settings.docker;
    const { request } = state;
    const binds: string[] = [];
    const made = new Map<string, string>();
    for (const v of state.volumes) {
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
            Object.assign(labels, this.labels(request, v.name));
            state.stepVolumes.add(name);
          } else if (src.scope === "workflow") {
            name = `skiff-${dockerName(src.claimName)}-${dockerName(request.workflowUid).slice(0, 12)}`;
            Object.assign(labels, this.labels(request, v.name));
            this.workflowVolumes.add(name);
          } else {
            // A claim that existed before the workflow keeps its contents across workflows.
            name = `skiff-claim-${dockerName(src.claimName)}`;
            labels[LABELS.claim] = src.claimName;
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
      if (!state.volumes.some((v) => v.mountPath === ws)) binds.push(`${ws}:${ws}`);
    }
    return binds;
  }

  /** A container's binds: only the volumes its own `volumeMounts` (or its containerSet's) name, plus the workspace. */
  private mountsFor(state: StepState, plan: ContainerPlan, all: string[]): string[] {
    const names = new Set<string>(
      [
        ...((plan.spec.volumeMounts ?? []) as K8sObject[]),
        ...(plan.role === "set"
          ? ((state.request.template.containerSet?.volumeMounts ?? []) as K8sObject[])
          : []),
      ].map((m) => path.resolve(String(m.mountPath ?? "/"))),
    );
    const ws = state.request.workspace ? path.resolve(state.request.workspace) : undefined;
    return all.filter((b) => {
      const target = bindTarget(b);
      return names.has(target) || target === ws;
    });
  }

  /** Input artifacts and the script, staged in a host folder; `paths` are what to copy in, relative to `/`. */
  private async stageInputs(
    state: StepState,
    kind: RunnableType,
    dir: string,
    scratch: string,
  ): Promise<{ root: string; paths: string[] }> {
    const { request } = state;
    const root = path.join(dir, "in");
    await mkdir(root, { recursive: true });
    const hostPath = (p: string): string => path.join(root, path.resolve("/", p));
    await loadInputArtifacts(request.inputArtifacts, {
      hostPath,
      ...(request.artifactRepository ? { repository: request.artifactRepository } : {}),
      scratchDir: scratch,
    });
    if (kind === "script") {
      const file = hostPath(SCRIPT_PATH);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, request.template.script!.source ?? "");
      await chmod(file, 0o755);
    }
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
    return { root, paths };
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
    const container = this.settings.docker.getContainer(containerId);
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

  private async stepDir(state: StepState): Promise<string> {
    if (!state.dir) {
      this.rootDir ??= (async () => {
        await mkdir(this.settings.workDir, { recursive: true });
        // The pid in the name lets a recovering process find the folders of one that was killed.
        return mkdtemp(path.join(this.settings.workDir, `skiff-docker-${process.pid}-`));
      })();
      const root = await this.rootDir;
      state.dir = await mkdtemp(path.join(root, `${dockerName(state.request.podName)}-`));
    }
    return state.dir;
  }

  // ---------------------------------------------------------------------------------------------------
  // Stopping

  /** SIGTERM to every running container of the step, SIGKILL after the grace period of the executor's clock. */
  private stopContainers(state: StepState): void {
    state.abort.abort();
    for (const id of state.running) this.terminate(state, id);
  }

  private terminate(state: StepState, id: string): void {
    void this.signal(id, "SIGTERM");
    state.killTimers.push(
      this.settings.clock.setTimer(this.settings.killGracePeriodMs, () => void this.signal(id, "SIGKILL")),
    );
  }

  private async signal(id: string, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    // 404/409: the container is gone or no longer running, which is what was wanted.
    await this.settings.docker
      .getContainer(id)
      .kill({ signal })
      .catch(() => undefined);
  }

  private async removeContainer(id: string): Promise<void> {
    await this.settings.docker
      .getContainer(id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  }

  private async removeVolume(name: string): Promise<void> {
    await this.settings.docker
      .getVolume(name)
      .remove()
      .catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------------------
  // Daemons

  private async watchReadiness(
    state: StepState,
    main: ContainerPlan,
    run: RunningContainer,
    ipContainer: string,
  ): Promise<void> {
    const probe = main.spec.readinessProbe as K8sObject | undefined;
    const clock = this.settings.clock;
    let running = true;
    void run.done.then(() => (running = false));
    try {
      const info = await this.settings.docker.getContainer(ipContainer).inspect();
      const ip = ipOf(info);
      const initial = Number(probe?.initialDelaySeconds ?? 0);
      if (initial > 0) await clock.sleep(initial * 1000, state.abort.signal);
      const period = Math.min(Number(probe?.periodSeconds ?? 10) * 1000, this.settings.readinessPollMs);
      while (running && !state.stop) {
        if (!probe || (await this.probeOnce(probe, main, run.id, ip))) {
          state.resolveReady({ ip });
          return;
        }
        await clock.sleep(period, state.abort.signal);
      }
    } catch {
      // Aborted or the container is gone: `runStep` rejects `ready`.
    }
  }

  private async probeOnce(probe: K8sObject, main: ContainerPlan, id: string, ip: string): Promise<boolean> {
    const httpGet = probe.httpGet as K8sObject | undefined;
    const exec = probe.exec as { command?: string[] } | undefined;
    const tcp = probe.tcpSocket as K8sObject | undefined;
    const timeoutMs = Number(probe.timeoutSeconds ?? 1) * 1000;
    try {
      if (httpGet) {
        const scheme = String(httpGet.scheme ?? "HTTP").toLowerCase();
        const host = String(httpGet.host ?? ip);
        const res = await fetch(
          `${scheme}://${host}:${portOf(httpGet.port, main.spec)}${String(httpGet.path ?? "/")}`,
          { signal: AbortSignal.timeout(timeoutMs) },
        );
        await res.arrayBuffer();
        return res.status >= 200 && res.status < 400;
      }
      if (exec?.command?.length) {
        const e = await this.settings.docker
          .getContainer(id)
          .exec({ Cmd: exec.command, AttachStdout: true, AttachStderr: true });
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
      if (tcp) {
        const net = await import("node:net");
        const port = portOf(tcp.port, main.spec);
        return await new Promise<boolean>((resolve) => {
          const s = net.connect({ host: String(tcp.host ?? ip), port, timeout: timeoutMs }, () => {
            s.destroy();
            resolve(true);
          });
          s.on("error", () => resolve(false));
          s.on("timeout", () => {
            s.destroy();
            resolve(false);
          });
        });
      }
      return true;
    } catch {
      return false;
    }
  }
}

interface PodContext {
  binds: string[];
  networkMode: string;
  staged: { root: string; paths: string[] };
  /** Set when the step's containers were started by an earlier process: they are followed, not run. */
  attached?: AttachedPod;
}

/** The containers of a re-attached step, by their `skiff.dev/container` label. */
interface AttachedPod {
  containers: Map<string, Docker.ContainerInspectInfo>;
  /** When its first container started. */
  startedAtMs: number;
}

interface RunningContainer {
  id: string;
  done: Promise<ContainerExit>;
}

/** Steps with more than one container share a network namespace held by a pause-like container. */
function needsPause(request: StepRequest): boolean {
  const t = request.template;
  return (t.initContainers?.length ?? 0) > 0 || (t.sidecars?.length ?? 0) > 0 || t.containerSet !== undefined;
}

/**
 * Whether a step found on the engine got as far as starting every container it needs: each planned one
 * started (a containerSet container may be missing when one of its dependencies failed), and the pause
 * container when the step has one. A step caught half-way cannot be continued: it is lost.
 */
function hasStarted(infos: ReadonlyMap<string, Docker.ContainerInspectInfo>, name: string): boolean {
  const s = infos.get(name)?.State;
  return s !== undefined && (s.Running || Date.parse(s.StartedAt) > 0);
}

function isAttachable(
  request: StepRequest,
  plans: ContainerPlan[],
  infos: ReadonlyMap<string, Docker.ContainerInspectInfo>,
): boolean {
  const started = (name: string): boolean => hasStarted(infos, name);
  const byName = new Map(plans.map((p) => [p.name, p]));
  const blocked = (p: ContainerPlan): boolean =>
    p.dependencies.some((d) => {
      const dep = byName.get(d);
      if (!dep) return false;
      if (started(d)) return !infos.get(d)?.State.Running && infos.get(d)?.State.ExitCode !== 0;
      return blocked(dep);
    });
  if (needsPause(request) && !started("pause")) return false;
  return plans.every((p) => started(p.name) || (p.role === "set" && blocked(p)));
}

/** A deadline or kill overrides whatever the containers reported. */
function applyStop(state: StepState, result: StepResult): void {
  if (!state.stop) return;
  result.phase = "Failed";
  result.message = state.stop.kind === "deadline" ? DEADLINE_MESSAGE : state.stop.reason;
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

function portOf(port: unknown, container: Container): number {
  if (typeof port === "number") return port;
  const named = (container.ports ?? []).find((p) => p.name === port);
  return Number(named?.containerPort ?? port);
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 8);
}

function firstLine(s: string): string {
  return (s.split("\n").find((l) => l.trim() !== "") ?? s).trim();
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
