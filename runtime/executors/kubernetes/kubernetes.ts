import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { SkiffError } from "../../errors/index.js";
import type { Clock } from "../../interfaces/clock.js";
import type {
  ExecutorCapabilities,
  LogLine,
  StepHandle,
  StepRequest,
  StepResult,
} from "../../interfaces/executor.js";
import type { K8sObject } from "../../spec/types.js";
import {
  type ContainerRuntime,
  type ContainerToPlan,
  findImageConfig,
  type FoundPod,
  type ImagesConfig,
  PodExecutor,
  type PodStep,
  type RunnableKind,
} from "../shared/index.js";
import { apiError, type KubeClients, PodWatch, RateLimiter, rawRequest, statusOf } from "./api.js";
import { KUBE_CODES } from "./codes.js";
import { KubePod } from "./pod.js";
import { runResource } from "./resource.js";
import {
  type ImageMap,
  kubeContainer,
  LABELS,
  labelValue,
  mapImage,
  outputPaths,
  type KubeContainer,
} from "./spec.js";

/** The executor's resolved settings. */
export interface KubeSettings {
  clients: KubeClients;
  /** Namespace every step runs in; unset: the workflow's (`metadata.namespace`, else `default`). */
  namespace: string | undefined;
  /** Image of the `init` and `wait` containers: must hold a static busybox (the official image does). */
  executorImage: string;
  imageMap: ImageMap;
  images: ImagesConfig;
  clock: Clock;
  killGracePeriodMs: number;
  readinessPollMs: number;
  /** How long a pod may stay unscheduled or unable to pull an image before its step ends in Error. */
  pendingTimeoutMs: number;
  /** Pod creations per second, and at once. */
  qps: number;
  burst: number;
  workDir: string;
  instanceId: string;
}

/** Runs each leaf step as a Pod on a Kubernetes cluster; see README.md beside this file. */
export class KubernetesExecutor extends PodExecutor<KubeContainer, V1Pod> {
  readonly kube: KubeRuntime;

  constructor(settings: KubeSettings) {
    const runtime = new KubeRuntime(settings);
    super(runtime);
    this.kube = runtime;
  }

  /** The value of the `skiff.dev/executor` label on everything this executor creates. */
  get instanceId(): string {
    return this.kube.settings.instanceId;
  }

  /** Resource steps, run in this process (see `resource.ts`), by handle id. */
  private readonly resources = new Map<string, { result: Promise<StepResult>; abort: AbortController }>();
  private resourceSeq = 0;

  override async start(request: StepRequest): Promise<StepHandle> {
    if (request.template.resource) {
      const id = `kubernetes-resource-${++this.resourceSeq}`;
      const abort = new AbortController();
      this.resources.set(id, { result: runResource(this.kube, request, abort.signal), abort });
      return { id, nodeId: request.nodeId };
    }
    return super.start(this.kube.forPlanning(request));
  }

  override attach(request: StepRequest): Promise<StepHandle | undefined> {
    // A resource step's action ran in the dead process: it is started again (actions are idempotent or fail
    // with AlreadyExists, as a retried Argo resource step does).
    if (request.template.resource) return this.start(request);
    return super.attach(this.kube.forPlanning(request));
  }

  override async wait(handle: StepHandle): Promise<StepResult> {
    const r = this.resources.get(handle.id);
    if (!r) return super.wait(handle);
    try {
      return await r.result;
    } finally {
      this.resources.delete(handle.id);
    }
  }

  override logs(handle: StepHandle): AsyncIterable<LogLine> {
    if (this.resources.has(handle.id)) return (async function* () {})();
    return super.logs(handle);
  }

  override async kill(handle: StepHandle, reason: string): Promise<void> {
    const r = this.resources.get(handle.id);
    if (r) r.abort.abort();
    else await super.kill(handle, reason);
  }
}

/**
 * A cluster as a container runtime: a pod is a Pod created through the API, a container one of its
 * containers, followed through one watch per namespace and the log API (see `pod.ts`).
 */
export class KubeRuntime implements ContainerRuntime<KubeContainer, V1Pod> {
  readonly name = "kubernetes";
  readonly title = "Kubernetes";
  readonly capabilities: ExecutorCapabilities = { resource: true, containers: true };
  readonly hostNodeName = "";
  readonly clock: Clock;
  readonly readinessPollMs: number;
  readonly limiter: RateLimiter;
  private readonly watches = new Map<string, PodWatch>();
  /** Workflow-level objects (PVCs of volumeClaimTemplates, the PDB) created, removed by cleanup. */
  private readonly workflowObjects = new Map<string, Promise<void>>();
  private readonly created: { kind: "pvc" | "pdb"; namespace: string; name: string }[] = [];
  /** API paths of objects resource templates made with `setOwnerReference`: gone with the workflow. */
  private readonly owned: string[] = [];
  /** Deletions under way (pods released), awaited by cleanup. */
  readonly pending = new Set<Promise<unknown>>();
  /** Pods kept by `podGC` (deleted neither at their end nor by cleanup). */
  readonly kept = new Set<string>();
  /** Namespaces (and workflows) whose pods cleanup looks for by label. */
  private readonly workflows = new Map<string, string>();
  private rootDir: Promise<string> | undefined;
  /** The volumes of each step as the workflow gives them (see `forPlanning`). */
  private readonly clusterVolumes = new WeakMap<StepRequest, K8sObject[]>();

  constructor(readonly settings: KubeSettings) {
    this.clock = settings.clock;
    this.readinessPollMs = settings.readinessPollMs;
    this.limiter = new RateLimiter(settings.qps, settings.burst);
  }

  get clients(): KubeClients {
    return this.settings.clients;
  }

  namespaceOf(request: StepRequest): string {
    return this.settings.namespace ?? request.namespace;
  }

  /** The pod watch of a namespace, started on first use. */
  async watchOf(namespace: string): Promise<PodWatch> {
    let w = this.watches.get(namespace);
    if (!w) {
      w = new PodWatch(this.clients, namespace, `${LABELS.managedBy}=skiff`);
      this.watches.set(namespace, w);
    }
    try {
      await w.ensure();
    } catch (e) {
      this.watches.delete(namespace);
      throw apiError(`list pods in namespace '${namespace}'`, e);
    }
    return w;
  }

  /**
   * The request the shared lifecycle plans with. Volumes are the cluster's to provide (configMap and secret
   * volumes from the namespace, any volume type the cluster supports), so the lifecycle, which would make
   * them on this machine, sees each as an emptyDir; the pod gets them as the workflow gives them.
   */
  forPlanning(request: StepRequest): StepRequest {
    const volumes = request.volumes ?? [];
    const planning: StepRequest = {
      ...request,
      volumes: volumes.map((v) => (v.emptyDir !== undefined ? v : { name: v.name, emptyDir: {} })),
    };
    this.clusterVolumes.set(planning, volumes);
    return planning;
  }

  /** The step's volumes as the workflow gives them. */
  volumesOf(request: StepRequest): K8sObject[] {
    return this.clusterVolumes.get(request) ?? request.volumes ?? [];
  }

  planContainer(request: StepRequest, c: ContainerToPlan): KubeContainer {
    const spec = c.spec;
    const image = spec.image ?? "";
    if (!image) {
      throw new SkiffError(
        KUBE_CODES["SKF-KUBE-003"],
        `${c.role === "init" ? "init container" : "container"} '${c.name}' of template '${request.templateName}' names no image`,
        { hint: "Give the container an `image:`; a Pod runs every container from one." },
      );
    }
    let command: string[] | undefined;
    let args = [...(spec.args ?? [])];
    if (spec.command?.length) command = [...spec.command];
    else {
      const config = findImageConfig(this.settings.images, image);
      if (config?.entrypoint?.length) {
        command = [...config.entrypoint];
        if (spec.args === undefined) args = [...(config.cmd ?? [])];
      }
    }
    args.push(...c.extraArgs);
    const needsWrap =
      (c.role === "main" && outputPaths(request).length > 0) ||
      (c.role === "set" && c.dependencies.length > 0);
    if (command === undefined && needsWrap) {
      throw new SkiffError(
        KUBE_CODES["SKF-KUBE-003"],
        `container '${c.name}' of template '${request.templateName}' has no command and the entrypoint of image '${image}' is unknown`,
      );
    }
    return {
      name: c.name,
      role: c.role,
      spec,
      dependencies: c.dependencies,
      command,
      args,
      container: kubeContainer(spec, c.name, mapImage(this.settings.imageMap, image), {
        ...request.env,
        ARGO_NODE_ID: request.nodeId,
        ARGO_WORKFLOW_NAME: request.workflowName,
        ...(request.deadline ? { ARGO_DEADLINE: new Date(request.deadline).toISOString() } : {}),
      }),
    };
  }

  /** Creates the workflow's PVCs (volumeClaimTemplates) and PDB once, before its first pod. */
  /** Notes a workflow whose pods cleanup looks for (by label) and waits to be gone. */
  noteWorkflow(request: StepRequest): void {
    this.workflows.set(`${this.namespaceOf(request)}/${request.workflowUid}`, request.workflowName);
  }

  async prepareImages(request: StepRequest): Promise<void> {
    const ns = this.namespaceOf(request);
    this.noteWorkflow(request);
    const key = `${ns}/${request.workflowUid}`;
    let p = this.workflowObjects.get(key);
    if (!p) {
      p = this.createWorkflowObjects(request, ns);
      this.workflowObjects.set(key, p);
      p.catch(() => this.workflowObjects.delete(key));
    }
    await p;
  }

  private async createWorkflowObjects(request: StepRequest, namespace: string): Promise<void> {
    const spec = request.workflowSpec ?? {};
    const labels = {
      [LABELS.workflow]: request.workflowName,
      [LABELS.managedBy]: "skiff",
      [LABELS.workflowUid]: labelValue(request.workflowUid),
    };
    for (const t of spec.volumeClaimTemplates ?? []) {
      const meta = (t.metadata ?? {}) as K8sObject;
      const name = `${request.workflowName}-${String(meta.name)}`;
      const body = {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: {
          ...meta,
          name,
          namespace,
          labels: { ...((meta.labels as Record<string, string>) ?? {}), ...labels },
        },
        spec: structuredClone(t.spec ?? {}),
      };
      try {
        await this.clients.core.createNamespacedPersistentVolumeClaim({ namespace, body: body as never });
        this.created.push({ kind: "pvc", namespace, name });
      } catch (e) {
        if (statusOf(e) !== 409) throw apiError(`create PersistentVolumeClaim '${name}'`, e);
      }
    }
    const pdb = spec.podDisruptionBudget as K8sObject | undefined;
    if (pdb) {
      const body = {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: request.workflowName, namespace, labels },
        spec: {
          ...structuredClone(pdb),
          selector: (pdb.selector as K8sObject | undefined) ?? {
            matchLabels: { [LABELS.workflow]: request.workflowName },
          },
        },
      };
      try {
        await this.clients.policy.createNamespacedPodDisruptionBudget({ namespace, body: body as never });
        this.created.push({ kind: "pdb", namespace, name: request.workflowName });
      } catch (e) {
        if (statusOf(e) !== 409) throw apiError(`create PodDisruptionBudget '${request.workflowName}'`, e);
      }
    }
  }

  /**
   * Finds the Pod an earlier controller created for this step (by its name, checked against the workflow's
   * uid label and node-id annotation): follows it once main started; deletes it and starts afresh when it was
   * caught before main ran (init containers are idempotent by contract); lost when it is gone. A data step is
   * run again; an HTTP step ran inside the dead process: lost.
   */
  async find(request: StepRequest, kind: RunnableKind): Promise<FoundPod<V1Pod>> {
    if (kind === "data") return { action: "start" };
    if (kind === "http") return { action: "lost" };
    const namespace = this.namespaceOf(request);
    this.workflows.set(`${namespace}/${request.workflowUid}`, request.workflowName);
    let pod: V1Pod;
    try {
      pod = await this.clients.core.readNamespacedPod({ namespace, name: request.podName });
    } catch (e) {
      if (statusOf(e) === 404) return { action: "lost" };
      throw apiError(`read pod '${request.podName}'`, e);
    }
    if (pod.metadata?.labels?.[LABELS.workflowUid] !== labelValue(request.workflowUid))
      return { action: "lost" };
    const mains = (pod.status?.containerStatuses ?? []).filter((c) => c.name !== "wait");
    const started = mains.some((c) => c.state?.running || c.state?.terminated);
    if (!started || pod.metadata?.deletionTimestamp) {
      await this.deletePod(namespace, request.podName, 0);
      return started ? { action: "lost" } : { action: "start" };
    }
    return { action: "follow", found: pod };
  }

  createPod(step: PodStep<KubeContainer>, found: V1Pod | undefined): KubePod {
    return new KubePod(this, step, found);
  }

  /**
   * Notes an object a resource template created with `setOwnerReference: true`. Argo makes the Workflow its
   * owner so the garbage collector removes it with the workflow; Skiff's workflows are not cluster objects,
   * so cleanup deletes it when the run ends.
   */
  ownedByWorkflow(_request: StepRequest, collectionPath: string, name: string): void {
    this.owned.push(`${collectionPath}/${encodeURIComponent(name)}`);
  }

  /** Deletes a pod (404: already gone). */
  async deletePod(namespace: string, name: string, graceSeconds: number): Promise<void> {
    await this.clients.core
      .deleteNamespacedPod({ namespace, name, gracePeriodSeconds: graceSeconds })
      .catch((e: unknown) => {
        if (statusOf(e) !== 404) throw apiError(`delete pod '${name}'`, e);
      });
  }

  /** A host folder for one step: staged inputs, unpacked outputs, scratch. */
  async stepDir(podName: string): Promise<string> {
    this.rootDir ??= (async () => {
      await mkdir(this.settings.workDir, { recursive: true });
      return mkdtemp(path.join(this.settings.workDir, `skiff-kube-${process.pid}-`));
    })();
    return mkdtemp(path.join(await this.rootDir, `${podName.slice(0, 60)}-`));
  }

  /**
   * Deletes what the executor created and no step removed: pods of its workflows (by label, also those an
   * earlier process left) except what `podGC` keeps, step ConfigMaps, the workflow PVCs and PDBs.
   */
  async cleanup(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    const core = this.clients.core;
    for (const [key] of this.workflows) {
      const [namespace, uid] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
      const selector = `${LABELS.managedBy}=skiff,${LABELS.workflowUid}=${labelValue(uid)}`;
      const pods = await core
        .listNamespacedPod({ namespace, labelSelector: selector })
        .catch(() => undefined);
      await Promise.allSettled(
        (pods?.items ?? [])
          .filter((p) => !this.kept.has(`${namespace}/${p.metadata?.name}`))
          .map((p) => this.deletePod(namespace, p.metadata?.name ?? "", 0)),
      );
      // Deleted pods linger while their containers stop: wait for them, so nothing outlives the run.
      for (let i = 0; i < 300; i++) {
        const left = await core
          .listNamespacedPod({ namespace, labelSelector: selector })
          .catch(() => undefined);
        const mine = (left?.items ?? []).filter((p) => !this.kept.has(`${namespace}/${p.metadata?.name}`));
        if (mine.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const cms = await core
        .listNamespacedConfigMap({ namespace, labelSelector: selector })
        .catch(() => undefined);
      await Promise.allSettled(
        (cms?.items ?? []).map((c) =>
          core.deleteNamespacedConfigMap({ namespace, name: c.metadata?.name ?? "" }),
        ),
      );
    }
    for (const o of this.created.splice(0)) {
      const done =
        o.kind === "pvc"
          ? core.deleteNamespacedPersistentVolumeClaim({ namespace: o.namespace, name: o.name })
          : this.clients.policy.deleteNamespacedPodDisruptionBudget({ namespace: o.namespace, name: o.name });
      await done.catch(() => undefined);
    }
    for (const path of this.owned.splice(0))
      await rawRequest(this.clients.config, "DELETE", path).catch(() => undefined);
    this.workflowObjects.clear();
    this.workflows.clear();
    for (const w of this.watches.values()) w.stop();
    this.watches.clear();
    if (this.rootDir) {
      const dir = await this.rootDir.catch(() => undefined);
      this.rootDir = undefined;
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }
}
