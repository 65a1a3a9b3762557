import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import { SkiffError } from "../../errors/index.js";
import type { Clock } from "../../interfaces/clock.js";
import type { ExecutorCapabilities, StepRequest } from "../../interfaces/executor.js";
import {
  containerEnv,
  type ContainerRuntime,
  type ContainerToPlan,
  type FoundPod,
  type ImagesConfig,
  type PlannedContainer,
  planPod,
  PodExecutor,
  type PodStep,
  type RunnableKind,
} from "../shared/index.js";
import { DOCKER_CODES, IMAGE_HINT } from "./codes.js";
import { DockerPod, firstLine, needsPause, type FoundContainers } from "./pod.js";
import {
  dockerName,
  entrypointAndCmd,
  pullPolicyOf,
  resolveImage,
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

/** A container of a step as Docker runs it: the image, its pull policy, entrypoint, environment and folder. */
export interface DockerContainer extends PlannedContainer {
  image: string;
  policy: PullPolicy;
  entry: { Entrypoint?: string[]; Cmd?: string[] };
  env: Record<string, string>;
  workingDir: string | undefined;
}

/** Runs each leaf step as a group of Docker containers, like a pod; see README.md beside this file. */
export class DockerExecutor extends PodExecutor<DockerContainer, FoundContainers> {
  constructor(private readonly settings: DockerSettings) {
    super(new DockerRuntime(settings));
  }

  /** The value of the `skiff.dev/executor` label on everything this executor creates. */
  get instanceId(): string {
    return this.settings.instanceId;
  }
}

/**
 * A Docker engine as a container runtime: a container is a Docker container, a pod is the step's containers
 * (and a pause container holding their network namespace), found again by their labels (see `pod.ts`).
 */
export class DockerRuntime implements ContainerRuntime<DockerContainer, FoundContainers> {
  readonly name = "docker";
  readonly title = "Docker";
  readonly capabilities: ExecutorCapabilities = { resource: false, containers: true };
  readonly hostNodeName = hostname();
  readonly labelNames = LABELS;
  readonly clock: Clock;
  readonly readinessPollMs: number;
  /** Claim volumes made for workflows (removed by cleanup), by volume name. */
  readonly workflowVolumes = new Set<string>();
  private engineChecked: Promise<void> | undefined;
  /** Workflows (by uid) whose steps were re-attached: cleanup() removes all they left. */
  private readonly adoptedWorkflows = new Set<string>();
  private rootDir: Promise<string> | undefined;

  constructor(readonly settings: DockerSettings) {
    this.clock = settings.clock;
    this.readinessPollMs = settings.readinessPollMs;
  }

  async prepareImages(request: StepRequest, plans: readonly DockerContainer[]): Promise<void> {
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

  /**
   * Finds the containers an earlier Skiff process started for this step (by the `skiff.dev/workflow-uid` and
   * `skiff.dev/node-id` labels, whatever executor instance made them) and follows them: logs from their
   * start, their exits, outputs copied out as usual, everything removed when the step ends. A step whose
   * main never started (caught while staging or in its init containers) is removed and started afresh.
   * Lost (after removing what was found) when no container of the step exists, or main started but not every
   * container the step needs did (a containerSet caught half-way). A data step is run again: it is a pure
   * function of its inputs. HTTP steps ran inside the dead process: lost.
   */
  async find(request: StepRequest, kind: RunnableKind): Promise<FoundPod<FoundContainers>> {
    if (kind === "data") return { action: "start" };
    if (kind === "http") return { action: "lost" };
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
    let plans: DockerContainer[] | undefined;
    try {
      plans = planPod(this, request, kind);
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
      if (plans && infos.size > 0 && !mainStarted) return { action: "start" };
      return { action: "lost" };
    }
    const startedAtMs = Math.min(...[...infos.values()].map((i) => Date.parse(i.State.StartedAt)));
    return { action: "follow", found: { containers: infos, startedAtMs, stepVolumes } };
  }

  createPod(step: PodStep<DockerContainer>, found: FoundContainers | undefined): DockerPod {
    return new DockerPod(this, step, found);
  }

  async cleanup(): Promise<void> {
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

  /** A host folder for one step: staged inputs, copied-out outputs, scratch. */
  async stepDir(podName: string): Promise<string> {
    this.rootDir ??= (async () => {
      await mkdir(this.settings.workDir, { recursive: true });
      // The pid in the name lets a recovering process find the folders of one that was killed.
      return mkdtemp(path.join(this.settings.workDir, `skiff-docker-${process.pid}-`));
    })();
    const root = await this.rootDir;
    return mkdtemp(path.join(root, `${dockerName(podName)}-`));
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
        throw imageError(
          "ErrImageNeverPull",
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
      throw imageError(
        "ErrImagePull",
        `failed to pull image '${image}' (imagePullPolicy ${policy}): ${firstLine((e as Error).message)}`,
      );
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Planning: everything that can be checked before a container runs, so start() throws for it.

  planContainer(request: StepRequest, container: ContainerToPlan): DockerContainer {
    const { spec: c, name, role } = container;
    const base: Record<string, string> = { ...request.env };
    if (request.workspace) base.SKIFF_WORKSPACE = path.resolve(request.workspace);
    const env = containerEnv(c, base, {
      namespace: request.namespace,
      containerName: name,
      configMaps: request.configMaps,
      secrets: request.secrets,
    });
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
      dependencies: container.dependencies,
      image: resolveImage(this.settings.imageMap, image),
      policy: pullPolicyOf(c),
      entry: entrypointAndCmd(c, this.settings.images, container.extraArgs),
      env,
      // Argo starts a container in its image's WORKDIR; starting in the workspace is an opt-in.
      workingDir:
        c.workingDir ??
        (request.workspace && this.settings.workspaceAsWorkingDir
          ? path.resolve(request.workspace)
          : undefined),
    };
  }

  labels(request: StepRequest, container: string): Record<string, string> {
    return {
      [LABELS.workflow]: request.workflowName,
      [LABELS.workflowUid]: request.workflowUid,
      [LABELS.node]: request.nodeId,
      [LABELS.container]: container,
      [LABELS.executor]: this.settings.instanceId,
    };
  }

  async signal(id: string, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    // 404/409: the container is gone or no longer running, which is what was wanted.
    await this.settings.docker
      .getContainer(id)
      .kill({ signal })
      .catch(() => undefined);
  }

  async removeContainer(id: string): Promise<void> {
    await this.settings.docker
      .getContainer(id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  }

  async removeVolume(name: string): Promise<void> {
    await this.settings.docker
      .getVolume(name)
      .remove()
      .catch(() => undefined);
  }
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
  plans: DockerContainer[],
  infos: ReadonlyMap<string, Docker.ContainerInspectInfo>,
): boolean {
  const started = (name: string): boolean => hasStarted(infos, name);
  const byName = new Map(plans.map((p) => [p.name, p]));
  const blocked = (p: DockerContainer): boolean =>
    p.dependencies.some((d) => {
      const dep = byName.get(d);
      if (!dep) return false;
      if (started(d)) return !infos.get(d)?.State.Running && infos.get(d)?.State.ExitCode !== 0;
      return blocked(dep);
    });
  if (needsPause(request) && !started("pause")) return false;
  return plans.every((p) => started(p.name) || (p.role === "set" && blocked(p)));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * An image that cannot be had, as the node shows it: the code and the kubelet's reason first, then the
 * engine's words, then what to do (a run shows only the node's message).
 */
function imageError(reason: "ErrImagePull" | "ErrImageNeverPull", message: string): SkiffError {
  const code = DOCKER_CODES["SKF-DOCKER-002"];
  return new SkiffError(code, `${code} ${reason}: ${message}. ${IMAGE_HINT}`);
}
