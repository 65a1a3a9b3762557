import { lstat, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import * as tar from "tar";
import { SkiffError } from "../../errors/index.js";
import type { K8sObject } from "../../spec/types.js";
import {
  type ContainerExit,
  type ContainerOutput,
  type Pod,
  type PodStep,
  type RunningContainer,
  SCRIPT_PATH,
} from "../shared/index.js";
import { apiError, apiMessage, type PodWatch, statusOf } from "./api.js";
import { KUBE_CODES } from "./codes.js";
import type { KubeRuntime } from "./kubernetes.js";
import {
  buildPod,
  INPUTS_KEY,
  inputsConfigMapName,
  LABELS,
  labelValue,
  OUTPUTS_BEGIN,
  OUTPUTS_END,
  outputPaths,
  relativeInput,
  type KubeContainer,
} from "./spec.js";

/** The API server's object size limit is 1.5 MiB; a ConfigMap's data stays well below it (base64 grows it). */
export const MAX_INPUTS_BYTES = 1024 * 1024;

/** Waiting reasons that do not go away by waiting: the step ends in Error at once. */
const FATAL_WAITING = new Set([
  "CreateContainerConfigError",
  "CreateContainerError",
  "InvalidImageName",
  "ErrImageNeverPull",
  "RunContainerError",
]);

/** The state of one container, or why it cannot be had. */
type Seen =
  { kind: "status"; status: V1ContainerStatus } | { kind: "gone" } | { kind: "failed"; message: string };

/**
 * One step's Pod on the cluster. Created once its inputs are staged (`inputsPlaced`), with every container in
 * it; `start` then follows a container (its status through the namespace's pod watch, its output through the
 * log API) rather than starting it. Outputs come back through the `wait` container's log; `stop`/`killNow`
 * delete the Pod (gracefully or not), `release` deletes it unless `podGC` keeps it.
 */
export class KubePod implements Pod<KubeContainer> {
  readonly adopted: boolean;
  readonly startedAt?: number;
  lost: string | undefined;
  readonly launched: Promise<void>;
  private markLaunched!: () => void;
  private readonly namespace: string;
  private current: V1Pod | undefined;
  private uid: string | undefined;
  private deleted = false;
  private stopping = false;
  private createdAt = 0;
  private unfollow: (() => void) | undefined;
  private readonly wakers = new Set<() => void>();
  private readonly logs = new Set<AbortController>();
  private dir: Promise<string> | undefined;
  private stagedRoot = "";
  private watch: PodWatch | undefined;

  constructor(
    private readonly runtime: KubeRuntime,
    private readonly step: PodStep<KubeContainer>,
    found: V1Pod | undefined,
  ) {
    this.launched = new Promise<void>((res) => (this.markLaunched = res));
    this.namespace = runtime.namespaceOf(step.request);
    this.adopted = found !== undefined;
    if (found) {
      this.current = found;
      this.uid = found.metadata?.uid;
      this.createdAt = Date.parse(String(found.metadata?.creationTimestamp ?? "")) || Date.now();
      const start = found.status?.startTime;
      this.startedAt = start ? new Date(start).getTime() : this.createdAt;
      this.markLaunched();
    }
  }

  private get name(): string {
    return this.step.request.podName;
  }

  private stepDir(): Promise<string> {
    this.dir ??= this.runtime.stepDir(this.name);
    return this.dir;
  }

  async open() {
    const dir = await this.stepDir();
    const scratchDir = path.join(dir, "scratch");
    await mkdir(scratchDir, { recursive: true });
    this.stagedRoot = path.join(dir, "in");
    if (this.adopted) await this.follow();
    return { inputPath: (p: string) => path.join(this.stagedRoot, path.resolve("/", p)), scratchDir };
  }

  /** Volumes are the Pod's own (emptyDir, claims, configMap and secret volumes from the cluster). */
  async prepareVolumes(): Promise<void> {
    await mkdir(this.stagedRoot, { recursive: true });
  }

  /** Creates the Pod, and the ConfigMap of its staged inputs (owned by the Pod) when there are any. */
  async inputsPlaced(): Promise<void> {
    const { request, kind, plans } = this.step;
    const wanted = [
      ...request.inputArtifacts.map((a) => a.path).filter((p): p is string => p !== undefined),
      ...(kind === "script" ? [SCRIPT_PATH] : []),
    ];
    const inputs: string[] = [];
    for (const p of wanted) {
      const rel = relativeInput(p);
      if (!rel || inputs.includes(rel)) continue;
      if (await exists(path.join(this.stagedRoot, rel))) inputs.push(rel);
    }
    let archive: Buffer | undefined;
    if (inputs.length > 0) {
      archive = await tarOf(this.stagedRoot, inputs);
      if (archive.length > MAX_INPUTS_BYTES) {
        throw new SkiffError(
          KUBE_CODES["SKF-KUBE-004"],
          `the inputs of step '${request.nodeName}' (${inputs.map((i) => `/${i}`).join(", ")}) take ${archive.length} bytes; a pod's inputs ConfigMap holds at most ${MAX_INPUTS_BYTES}`,
        );
      }
    }
    const deadline = Number(request.template.activeDeadlineSeconds);
    const body = buildPod(request, plans, {
      namespace: this.namespace,
      executorImage: this.runtime.settings.executorImage,
      instanceId: this.runtime.settings.instanceId,
      inputs,
      volumes: this.runtime.volumesOf(request),
      inputsConfigMap: archive !== undefined,
      ...(Number.isFinite(deadline) && deadline > 0 ? { activeDeadlineSeconds: deadline } : {}),
      terminationGracePeriodSeconds: Math.ceil(this.runtime.settings.killGracePeriodMs / 1000),
    });
    await this.follow();
    await this.runtime.limiter.take();
    if (this.step.stop) return;
    const pod = await this.createPodRetrying(body as V1Pod);
    this.createdAt = Date.now();
    this.uid = pod.metadata?.uid;
    this.update(pod);
    this.markLaunched();
    if (archive) {
      try {
        await this.runtime.clients.core.createNamespacedConfigMap({
          namespace: this.namespace,
          body: {
            metadata: {
              name: inputsConfigMapName(this.name),
              labels: {
                [LABELS.managedBy]: "skiff",
                [LABELS.workflow]: request.workflowName,
                [LABELS.workflowUid]: labelValue(request.workflowUid),
              },
              ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: this.name, uid: this.uid ?? "" }],
            },
            binaryData: { [INPUTS_KEY]: archive.toString("base64") },
          },
        });
      } catch (e) {
        throw apiError(`create ConfigMap '${inputsConfigMapName(this.name)}'`, e);
      }
    }
  }

  /**
   * Creates the Pod, retrying what Argo's controller requeues: no answer, 429 and 5xx. A create that went
   * through before its answer was lost shows as AlreadyExists on the retry: that pod is this step's.
   */
  private async createPodRetrying(body: V1Pod): Promise<V1Pod> {
    const core = this.runtime.clients.core;
    for (let attempt = 1; ; attempt++) {
      try {
        return await core.createNamespacedPod({ namespace: this.namespace, body });
      } catch (e) {
        const code = statusOf(e);
        if (code === 409 && attempt > 1) {
          return await core.readNamespacedPod({ namespace: this.namespace, name: this.name });
        }
        const transient = code === 0 || code === 429 || code >= 500;
        if (!transient || attempt >= 5 || this.step.stop) {
          throw apiError(`create pod '${this.name}' in namespace '${this.namespace}'`, e);
        }
        await sleep(200 * 2 ** attempt);
      }
    }
  }

  private async follow(): Promise<void> {
    if (this.unfollow) return;
    this.watch = await this.runtime.watchOf(this.namespace);
    this.unfollow = this.watch.follow(this.name, (pod) => this.update(pod));
  }

  private update(pod: V1Pod | undefined): void {
    if (pod === undefined) {
      if (this.uid) this.deleted = true;
    } else {
      // A pod of the same name from an earlier attempt is not this one.
      if (this.uid && pod.metadata?.uid !== this.uid) return;
      const rv = Number(pod.metadata?.resourceVersion ?? 0);
      const cur = Number(this.current?.metadata?.resourceVersion ?? 0);
      if (rv >= cur || !this.current) this.current = pod;
    }
    for (const w of [...this.wakers]) w();
  }

  /** Resolves with `check`'s first defined answer, checked now and on every update of the pod. */
  private until<T>(check: () => T | undefined, timeoutMs?: number): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waker = (): void => {
        const v = check();
        if (v === undefined) return;
        this.wakers.delete(waker);
        if (timer) clearTimeout(timer);
        resolve(v);
      };
      this.wakers.add(waker);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.wakers.delete(waker);
          resolve(check());
        }, timeoutMs);
      }
      waker();
    });
  }

  private statusOf(name: string, init: boolean): V1ContainerStatus | undefined {
    const s = this.current?.status;
    return (init ? s?.initContainerStatuses : s?.containerStatuses)?.find((c) => c.name === name);
  }

  /** Why a pod that has not run a container will not: Argo's words for a failed or stuck pod. */
  private blocked(name: string, init: boolean, pendingOver: boolean): string | undefined {
    const pod = this.current;
    const s = pod?.status;
    const own = this.statusOf("init", true);
    if (own?.state?.terminated && own.state.terminated.exitCode !== 0) {
      return `init: Error (exit code ${own.state.terminated.exitCode})${own.state.terminated.message ? `: ${own.state.terminated.message}` : ""}`;
    }
    const mine = this.statusOf(name, init);
    const waiting = [...(s?.initContainerStatuses ?? []), ...(s?.containerStatuses ?? [])].find(
      (c) => c.state?.waiting && FATAL_WAITING.has(c.state.waiting.reason ?? ""),
    );
    if (waiting) return `${waiting.state!.waiting!.reason}: ${waiting.state!.waiting!.message ?? ""}`.trim();
    if (s?.phase === "Failed") {
      if (s.message) return s.message;
      const reason = mine?.state?.waiting?.reason ?? "PodInitializing";
      return `Pod failed before ${name} container starts due to ${reason}`;
    }
    if (!pendingOver) return undefined;
    // Only a pod that is stuck times out (no node for it, images it cannot pull); one the kubelet is still
    // creating containers for, however slowly, is waited for, as Argo does.
    const stuck = [...(s?.containerStatuses ?? []), ...(s?.initContainerStatuses ?? [])].find(
      (c) =>
        c.state?.waiting?.reason &&
        !["PodInitializing", "ContainerCreating"].includes(c.state.waiting.reason),
    );
    if (stuck) return `${stuck.state!.waiting!.reason}: ${stuck.state!.waiting!.message ?? ""}`.trim();
    const cond = s?.conditions?.find((c) => c.reason === "Unschedulable");
    if (cond) return `Unschedulable: ${cond.message ?? ""}`.trim();
    return undefined;
  }

  async start(c: KubeContainer, output: ContainerOutput): Promise<RunningContainer> {
    const init = c.role === "init";
    const pendingUntil = this.createdAt + this.runtime.settings.pendingTimeoutMs;
    const seen = await this.untilStarted(c.name, init, pendingUntil);
    if (seen.kind === "gone")
      throw new Error(this.stopping ? "pod deleted" : (this.lost ??= "the pod was deleted"));
    if (seen.kind === "failed") throw new Error(seen.message);
    const abort = new AbortController();
    const logged = this.followLog(c.name, output, abort);
    let force: ((x: ContainerExit) => void) | undefined;
    const forced = new Promise<ContainerExit>((resolve) => (force = resolve));
    const ended = (async (): Promise<ContainerExit> => {
      const s = await this.until(() => {
        if (this.deleted) return { kind: "gone" } as const;
        // Deleted by someone else: its containers are killed on the way out, and Argo reports the pod as
        // deleted (Error), not as the exit code the kill gave the container.
        if (!this.stopping && this.current?.metadata?.deletionTimestamp) return { kind: "gone" } as const;
        const st = this.statusOf(c.name, init);
        if (st?.state?.terminated) return { kind: "status", status: st } as const;
        const p = this.current?.status;
        if (p?.phase === "Failed" && p.reason)
          return { kind: "failed", message: `${p.reason}: ${p.message ?? ""}` } as const;
        return undefined;
      });
      await Promise.race([logged, sleep(5000)]);
      const now = this.runtime.clock.now();
      const started = Date.parse(String(seen.status.state?.running?.startedAt ?? "")) || now;
      if (!s || s.kind === "gone" || s.kind === "failed") {
        if (!this.stopping) this.lost ??= s?.kind === "failed" ? s.message : "the pod was deleted";
        return { exitCode: this.stopping ? 143 : null, startedAt: started, finishedAt: now };
      }
      const t = s.status.state!.terminated!;
      const x: ContainerExit = {
        exitCode: t.exitCode,
        startedAt: t.startedAt ? new Date(t.startedAt).getTime() : started,
        finishedAt: t.finishedAt ? new Date(t.finishedAt).getTime() : now,
      };
      if (t.reason === "OOMKilled") x.oomKilled = true;
      else if (t.reason && !["Completed", "Error"].includes(t.reason)) {
        x.detail = `${t.reason}${t.message ? `: ${t.message}` : ""}`;
      }
      return x;
    })();
    const done = Promise.race([ended, forced]).then((x) => {
      abort.abort();
      output.end();
      return x;
    });
    return {
      id: c.name,
      done,
      terminate: () => {
        // A wrapped sidecar stops itself once the mains ended; an unwrapped one goes with the pod.
        const wait = c.command === undefined ? 0 : this.runtime.settings.killGracePeriodMs + 5000;
        const now = this.runtime.clock.now();
        setTimeout(() => force?.({ exitCode: 143, startedAt: now, finishedAt: now }), wait).unref();
      },
    };
  }

  private async untilStarted(
    name: string,
    init: boolean,
    pendingUntil: number,
  ): Promise<Seen & { kind: string }> {
    for (;;) {
      const left = pendingUntil - Date.now();
      const seen = await this.until<Seen>(
        () => {
          if (this.deleted) return { kind: "gone" };
          const st = this.statusOf(name, init);
          if (st?.state?.running || st?.state?.terminated) return { kind: "status", status: st };
          const why = this.blocked(name, init, Date.now() >= pendingUntil);
          return why ? { kind: "failed", message: why } : undefined;
        },
        Math.max(left, 1),
      );
      if (seen) return seen;
    }
  }

  private async followLog(name: string, output: ContainerOutput, abort: AbortController): Promise<void> {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        // The log API merges a container's stdout and stderr.
        output.stdout(chunk);
        cb();
      },
    });
    const finished = new Promise<void>((resolve) => {
      sink.on("finish", resolve);
      sink.on("close", resolve);
      sink.on("error", () => resolve());
    });
    try {
      const ctl = await this.runtime.clients.log.log(this.namespace, this.name, name, sink, { follow: true });
      this.logs.add(ctl);
      abort.signal.addEventListener("abort", () => ctl.abort());
    } catch {
      // No log to read (the container vanished): its exit still counts.
      return;
    }
    await finished;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.uid) return;
    await this.runtime
      .deletePod(this.namespace, this.name, Math.ceil(this.runtime.settings.killGracePeriodMs / 1000))
      .catch(() => undefined);
  }

  killNow(): void {
    this.stopping = true;
    if (!this.uid) return;
    const p = this.runtime.deletePod(this.namespace, this.name, 0).catch(() => undefined);
    this.track(p);
  }

  private track(p: Promise<unknown>): void {
    this.runtime.pending.add(p);
    void p.finally(() => this.runtime.pending.delete(p));
  }

  async outputPath(): Promise<((containerPath: string) => string) | undefined> {
    const pod = this.current;
    if (!pod?.spec?.containers.some((c) => c.name === "wait")) return undefined;
    const waited = await this.until(
      () => (this.deleted ? "gone" : this.statusOf("wait", false)?.state?.terminated ? "done" : undefined),
      this.runtime.settings.killGracePeriodMs + 10_000,
    );
    if (waited !== "done") return undefined;
    let log: string;
    try {
      log = await this.runtime.clients.core.readNamespacedPodLog({
        namespace: this.namespace,
        name: this.name,
        container: "wait",
      });
    } catch (e) {
      throw new Error(`could not read the outputs of pod '${this.name}': ${apiMessage(e)}`);
    }
    const begin = log.indexOf(OUTPUTS_BEGIN);
    const end = log.indexOf(OUTPUTS_END);
    if (begin < 0 || end < begin)
      throw new Error(`the wait container of pod '${this.name}' printed no outputs`);
    const archive = Buffer.from(log.slice(begin + OUTPUTS_BEGIN.length, end).replace(/\s+/g, ""), "base64");
    const out = path.join(await this.stepDir(), "out");
    await mkdir(out, { recursive: true });
    await new Promise<void>((resolve, reject) => {
      const x = tar.x({ cwd: out, preservePaths: false });
      x.on("finish", resolve);
      x.on("error", reject);
      x.end(archive);
    });
    const paths = outputPaths(this.step.request);
    return (p: string) => {
      const i = paths.indexOf(p);
      return path.join(out, i < 0 ? "missing" : String(i));
    };
  }

  async address(): Promise<string> {
    const ip = await this.until(() => this.current?.status?.podIP ?? (this.deleted ? "" : undefined));
    return ip ?? "";
  }

  /** No exec: the kubelet runs the container's own readiness probe, whose verdict the pod's status carries. */
  async exec(main: KubeContainer): Promise<boolean> {
    return this.statusOf(main.name, false)?.ready === true;
  }

  async dataScratchDir(): Promise<string> {
    const dir = path.join(await this.stepDir(), "data");
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Deletes the Pod, unless `podGC: {strategy: OnPodSuccess}` keeps it because it failed (then labelled completed). */
  async release(): Promise<void> {
    for (const l of this.logs) l.abort();
    const core = this.runtime.clients.core;
    if (this.uid && !this.deleted) {
      const gc = (this.step.request.workflowSpec?.podGC as K8sObject | undefined)?.strategy;
      const failed =
        this.current?.status?.phase === "Failed" ||
        (this.current?.status?.containerStatuses ?? []).some(
          (c) => (c.state?.terminated?.exitCode ?? 0) !== 0,
        );
      if (gc === "OnPodSuccess" && failed && !this.stopping) {
        this.runtime.kept.add(`${this.namespace}/${this.name}`);
        const p = core
          .patchNamespacedPod(
            {
              namespace: this.namespace,
              name: this.name,
              body: { metadata: { labels: { [LABELS.completed]: "true" } } },
            },
            setHeaderOptions(),
          )
          .catch(() => undefined);
        this.track(p);
      } else {
        this.track(this.runtime.deletePod(this.namespace, this.name, 0).catch(() => undefined));
      }
      this.track(
        core
          .deleteNamespacedConfigMap({ namespace: this.namespace, name: inputsConfigMapName(this.name) })
          .catch((e: unknown) => (statusOf(e) === 404 ? undefined : undefined)),
      );
    }
    if (this.dir) {
      const dir = await this.dir.catch(() => undefined);
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  forget(): void {
    this.unfollow?.();
    this.unfollow = undefined;
  }
}

/** A merge patch's content type for the typed client (it sends JSON patch by default). */
function setHeaderOptions() {
  return {
    middleware: [
      {
        pre: (ctx: { setHeaderParam(k: string, v: string): void }) => {
          ctx.setHeaderParam("Content-Type", "application/merge-patch+json");
          return Promise.resolve(ctx);
        },
        post: (res: unknown) => Promise.resolve(res),
      },
    ],
    middlewareMergeStrategy: "append",
  } as never;
}

async function tarOf(root: string, paths: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = tar.c({ cwd: root, portable: true }, paths);
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
