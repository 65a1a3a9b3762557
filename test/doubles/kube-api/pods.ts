/**
 * The kubelet of the Kubernetes API double: runs each pod's containers for real on the local Docker engine so
 * that outputs and logs are real, and writes back what a kubelet reports: phase, conditions, init and regular
 * containerStatuses (waiting/running/terminated with Kubernetes' reasons), podIP, nodeName. Containers of a
 * pod share a network namespace (held by a pause container) and their emptyDir volumes (host folders).
 * Failures can be scripted by pod name: image pull errors, config errors, OOMKilled, eviction, pending forever.
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import Docker from "dockerode";
import { resolveImage } from "../../../runtime/executors/docker/spec.js";
import type { ObjectStore } from "./store.js";
import { type KObject } from "./store.js";

/** A failure scripted for pods whose name starts with a prefix. */
export type PodFailure =
  /** The image of `container` (default: every container) cannot be pulled: ErrImagePull, then ImagePullBackOff. */
  | { kind: "ImagePullBackOff"; container?: string }
  /** Container `container` cannot be configured (a missing Secret): CreateContainerConfigError. */
  | { kind: "CreateContainerConfigError"; container: string; message?: string }
  /** Container `container` is killed by the OOM killer after `afterMs` (exit 137, reason OOMKilled). */
  | { kind: "OOMKilled"; container: string; afterMs?: number }
  /** The pod is evicted `afterMs` after its containers started: Failed, reason Evicted. */
  | { kind: "Evicted"; afterMs?: number; message?: string }
  /** The pod is never scheduled: Pending, condition PodScheduled False, reason Unschedulable. */
  | { kind: "Unschedulable" };

export interface PodRunnerOptions {
  imageMap: Record<string, string>;
  workDir: string;
  /** Labels of the double's one node, matched against `nodeSelector`. */
  nodeLabels: Record<string, string>;
  /** The image of the container holding a pod's network namespace. */
  pauseImage: string;
  docker?: Docker;
  /**
   * Run no containers: every container "runs" and exits 0 at once, with an empty log (for measuring the API
   * path at scale, e.g. bench/kubernetes-fanout.ts).
   */
  simulate?: boolean;
}

/** A container's log as the log API serves it: what was written so far, and readers following it. */
export interface ContainerLog {
  chunks: Buffer[];
  ended: boolean;
  listeners: Set<(chunk: Buffer | null) => void>;
}

interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: { name: string; value?: string; valueFrom?: Record<string, Record<string, unknown>> }[];
  envFrom?: {
    configMapRef?: { name: string; optional?: boolean };
    secretRef?: { name: string; optional?: boolean };
    prefix?: string;
  }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  resources?: { limits?: Record<string, string> };
}

interface RunningPod {
  uid: string;
  ns: string;
  name: string;
  dir: string;
  containers: Map<string, string>;
  logs: Map<string, ContainerLog>;
  stopped: boolean;
  timers: NodeJS.Timeout[];
  done: Promise<void>;
}

const NODE_NAME = "kube-double";

export class PodRunner {
  readonly docker: Docker;
  /** Scripted failures; a `once` one applies to the first pod that matches only. */
  readonly failures: { prefix: string; failure: PodFailure; once?: boolean }[] = [];
  private readonly pods = new Map<string, RunningPod>();
  /** Pods started, for the benchmark and tests. */
  started = 0;
  /** When each pod was created (ms), for rates. */
  readonly createdAt: number[] = [];
  /** Pods started by name: a step that ran twice shows as 2. */
  readonly startedByName = new Map<string, number>();

  constructor(
    private readonly store: ObjectStore,
    private readonly options: PodRunnerOptions,
  ) {
    this.docker = options.docker ?? new Docker();
  }

  logOf(pod: KObject, container: string): ContainerLog | undefined {
    return this.pods.get(String(pod.metadata?.uid))?.logs.get(container);
  }

  run(pod: KObject): void {
    const uid = String(pod.metadata!.uid);
    const rp: RunningPod = {
      uid,
      ns: String(pod.metadata!.namespace),
      name: String(pod.metadata!.name),
      dir: path.join(this.options.workDir, uid),
      containers: new Map(),
      logs: new Map(),
      stopped: false,
      timers: [],
      done: Promise.resolve(),
    };
    this.pods.set(uid, rp);
    this.started++;
    this.startedByName.set(rp.name, (this.startedByName.get(rp.name) ?? 0) + 1);
    this.createdAt.push(Date.now());
    rp.done = (this.options.simulate ? this.simulated(rp, pod) : this.lifecycle(rp, pod)).catch(
      (e: unknown) => {
        if (!rp.stopped) {
          this.patchStatus(rp, (s) => {
            s.phase = "Failed";
            s.message = `kubelet: ${(e as Error).message}`;
          });
        }
      },
    );
  }

  /** Stops a pod's containers: SIGTERM, SIGKILL after `graceMs`; then removes them and the pod's folders. */
  async stopPod(pod: KObject, graceMs: number): Promise<void> {
    const rp = this.pods.get(String(pod.metadata!.uid));
    if (!rp) return;
    rp.stopped = true;
    for (const t of rp.timers) clearTimeout(t);
    const ids = [...rp.containers.values()];
    await Promise.all(
      ids.map(async (id) => {
        const c = this.docker.getContainer(id);
        if (graceMs > 0) {
          await c.kill({ signal: "SIGTERM" }).catch(() => undefined);
          await Promise.race([c.wait().catch(() => undefined), sleep(graceMs)]);
        }
        await c.remove({ force: true }).catch(() => undefined);
      }),
    );
    await rp.done;
    for (const id of rp.containers.values())
      await this.docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined);
    for (const log of rp.logs.values()) endLog(log);
    await rm(rp.dir, { recursive: true, force: true }).catch(() => undefined);
    this.pods.delete(rp.uid);
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.pods.values()].map((rp) => this.stopPod({ metadata: { uid: rp.uid } } as KObject, 0)),
    );
  }

  private failureOf(name: string): PodFailure[] {
    const hit = this.failures.filter((f) => name.startsWith(f.prefix));
    for (const f of hit) if (f.once) this.failures.splice(this.failures.indexOf(f), 1);
    return hit.map((f) => f.failure);
  }

  private current(rp: RunningPod): KObject | undefined {
    return this.store.get("pods", rp.ns, rp.name);
  }

  private patchStatus(rp: RunningPod, mutate: (status: Record<string, unknown>) => void): void {
    const pod = this.current(rp);
    if (!pod || pod.metadata?.uid !== rp.uid) return;
    const status = (pod.status ??= {}) as Record<string, unknown>;
    mutate(status);
    this.store.update("pods", rp.ns, pod);
  }

  private setContainer(
    rp: RunningPod,
    init: boolean,
    name: string,
    state: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): void {
    this.patchStatus(rp, (s) => {
      const key = init ? "initContainerStatuses" : "containerStatuses";
      const list = (s[key] ??= []) as Record<string, unknown>[];
      let entry = list.find((c) => c.name === name);
      if (!entry) {
        entry = { name, ready: false, restartCount: 0, image: "", imageID: "" };
        list.push(entry);
      }
      entry.state = state;
      Object.assign(entry, extra);
      entry.ready = "running" in state;
      entry.started = "running" in state;
    });
  }

  private async lifecycle(rp: RunningPod, pod: KObject): Promise<void> {
    const spec = pod.spec as {
      initContainers?: ContainerSpec[];
      containers: ContainerSpec[];
      nodeSelector?: Record<string, string>;
      volumes?: Record<string, unknown>[];
      activeDeadlineSeconds?: number;
    };
    const failures = this.failureOf(rp.name);
    const inits = spec.initContainers ?? [];
    const mains = spec.containers;
    const waitingAll = (reason: string, message?: string): void => {
      for (const c of inits) this.setContainer(rp, true, c.name, { waiting: { reason: "PodInitializing" } });
      for (const c of mains) {
        this.setContainer(rp, false, c.name, { waiting: { reason, ...(message ? { message } : {}) } });
      }
    };

    // Scheduling.
    const unmatched = Object.entries(spec.nodeSelector ?? {}).filter(
      ([k, v]) => this.options.nodeLabels[k] !== v,
    );
    if (unmatched.length > 0 || failures.some((f) => f.kind === "Unschedulable")) {
      this.patchStatus(rp, (s) => {
        s.conditions = [
          {
            type: "PodScheduled",
            status: "False",
            reason: "Unschedulable",
            message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
            lastTransitionTime: now(),
          },
        ];
      });
      return;
    }
    const scheduled = this.current(rp);
    if (!scheduled) return;
    (scheduled.spec as Record<string, unknown>).nodeName = NODE_NAME;
    this.patchStatus(rp, (s) => {
      s.hostIP = "127.0.0.1";
      s.conditions = [{ type: "PodScheduled", status: "True", lastTransitionTime: now() }];
    });
    waitingAll(inits.length > 0 ? "PodInitializing" : "ContainerCreating");

    // Volumes: folders on this host, bound into the containers.
    const volumes = new Map<string, string>();
    for (const v of spec.volumes ?? []) {
      const name = String(v.name);
      const dir = path.join(rp.dir, "volumes", name);
      if (v.hostPath) {
        volumes.set(name, String((v.hostPath as { path: string }).path));
        continue;
      }
      if (v.persistentVolumeClaim) {
        const claim = String((v.persistentVolumeClaim as { claimName: string }).claimName);
        const claimDir = path.join(this.options.workDir, "claims", rp.ns, claim);
        await mkdir(claimDir, { recursive: true, mode: 0o777 });
        await chmod(claimDir, 0o777);
        volumes.set(name, claimDir);
        continue;
      }
      await mkdir(dir, { recursive: true, mode: 0o777 });
      await chmod(dir, 0o777);
      volumes.set(name, dir);
      const source = (v.configMap ?? v.secret) as
        | { name?: string; secretName?: string; items?: { key: string; path: string }[]; optional?: boolean }
        | undefined;
      if (source) {
        const resource = v.configMap ? "configmaps" : "secrets";
        const objName = String(source.name ?? source.secretName);
        // The kubelet retries a mount until its ConfigMap/Secret exists (the pod stays ContainerCreating).
        let obj = this.store.get(resource, rp.ns, objName);
        while (!obj && !source.optional && !rp.stopped) {
          await sleep(50);
          obj = this.store.get(resource, rp.ns, objName);
        }
        if (rp.stopped) return;
        const files = dataOf(obj);
        for (const [key, content] of files) {
          const item = source.items?.find((i) => i.key === key);
          if (source.items && !item) continue;
          const file = path.join(dir, item?.path ?? key);
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, content, { mode: 0o644 });
        }
      }
    }

    // Images and configuration.
    const images = new Map<string, string>();
    for (const c of [...inits, ...mains]) {
      const image = resolveImage(this.options.imageMap, c.image ?? "");
      const pullFails = failures.some(
        (f) => f.kind === "ImagePullBackOff" && (f.container === undefined || f.container === c.name),
      );
      const present =
        !pullFails &&
        (await this.docker
          .getImage(image)
          .inspect()
          .then(
            () => true,
            () => false,
          ));
      if (!present) {
        const isInit = inits.includes(c);
        const msg = `rpc error: code = NotFound desc = failed to pull and unpack image "${c.image}": not found`;
        this.setContainer(rp, isInit, c.name, { waiting: { reason: "ErrImagePull", message: msg } });
        await sleep(100);
        if (rp.stopped) return;
        this.setContainer(rp, isInit, c.name, {
          waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${c.image}"` },
        });
        return;
      }
      images.set(c.name, image);
    }
    const envs = new Map<string, string[]>();
    for (const c of [...inits, ...mains]) {
      const scripted = failures.find(
        (f) => f.kind === "CreateContainerConfigError" && f.container === c.name,
      );
      const env = scripted
        ? { error: (scripted as { message?: string }).message ?? `secret "missing" not found` }
        : this.envOf(rp, pod, c);
      if ("error" in env) {
        this.setContainer(rp, inits.includes(c), c.name, {
          waiting: { reason: "CreateContainerConfigError", message: env.error },
        });
        return;
      }
      envs.set(c.name, env.env);
    }

    // The pause container: the pod's network namespace and IP.
    const pause = await this.docker.createContainer({
      Image: this.options.pauseImage,
      Cmd: ["sleep", "2147483647"],
      Labels: { "skiff.dev/kube-double": rp.uid },
      HostConfig: { AutoRemove: false },
    });
    rp.containers.set("", pause.id);
    await pause.start();
    const info = await pause.inspect();
    const podIP =
      Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress ?? "127.0.0.1";
    const startTime = now();
    this.patchStatus(rp, (s) => {
      s.podIP = podIP;
      s.podIPs = [{ ip: podIP }];
      s.startTime = startTime;
    });
    if (spec.activeDeadlineSeconds !== undefined) {
      rp.timers.push(
        setTimeout(
          () =>
            void this.fail(
              rp,
              "DeadlineExceeded",
              "Pod was active on the node longer than the specified deadline",
            ),
          spec.activeDeadlineSeconds * 1000,
        ),
      );
    }

    const run = (c: ContainerSpec, init: boolean): Promise<number> =>
      this.runContainer(rp, c, init, images.get(c.name)!, envs.get(c.name)!, volumes, pause.id, failures);
    for (const c of inits) {
      if (rp.stopped) return;
      const code = await run(c, true);
      if (code !== 0) {
        this.patchStatus(rp, (s) => (s.phase = "Failed"));
        return;
      }
    }
    if (rp.stopped) return;
    this.patchStatus(rp, (s) => {
      s.phase = "Running";
      (s.conditions as unknown[]).push({ type: "Initialized", status: "True", lastTransitionTime: now() });
    });
    const evict = failures.find((f) => f.kind === "Evicted");
    if (evict) {
      rp.timers.push(
        setTimeout(
          () =>
            void this.fail(
              rp,
              "Evicted",
              evict.message ??
                "The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi.",
            ),
          evict.afterMs ?? 500,
        ),
      );
    }
    const codes = await Promise.all(mains.map((c) => run(c, false)));
    if (rp.stopped) return;
    this.patchStatus(rp, (s) => {
      if (s.phase === "Failed") return;
      s.phase = codes.every((c) => c === 0) ? "Succeeded" : "Failed";
    });
  }

  /** A pod whose containers all succeed at once, with empty logs. */
  private async simulated(rp: RunningPod, pod: KObject): Promise<void> {
    const spec = pod.spec as { initContainers?: ContainerSpec[]; containers: ContainerSpec[] };
    await sleep(1);
    const t = now();
    const terminated = { terminated: { exitCode: 0, reason: "Completed", startedAt: t, finishedAt: t } };
    this.patchStatus(rp, (s) => {
      s.phase = "Succeeded";
      s.podIP = "10.0.0.1";
      s.startTime = t;
      const status = (c: ContainerSpec) => ({
        name: c.name,
        ready: false,
        restartCount: 0,
        image: c.image,
        imageID: "",
        state: terminated,
      });
      s.initContainerStatuses = (spec.initContainers ?? []).map(status);
      s.containerStatuses = spec.containers.map(status);
    });
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      rp.logs.set(c.name, { chunks: [], ended: true, listeners: new Set() });
    }
  }

  /** The kubelet failing the whole pod (eviction, deadline): containers killed, phase Failed with a reason. */
  private async fail(rp: RunningPod, reason: string, message: string): Promise<void> {
    if (rp.stopped) return;
    this.patchStatus(rp, (s) => {
      s.phase = "Failed";
      s.reason = reason;
      s.message = message;
    });
    for (const [name, id] of rp.containers) {
      if (name)
        await this.docker
          .getContainer(id)
          .kill({ signal: "SIGKILL" })
          .catch(() => undefined);
    }
  }

  private envOf(rp: RunningPod, pod: KObject, c: ContainerSpec): { env: string[] } | { error: string } {
    const out: string[] = [];
    const lookup = (
      resource: string,
      name: string,
      key: string,
      optional: boolean,
    ): string | undefined | Error => {
      const obj = this.store.get(resource, rp.ns, name);
      const kind = resource === "secrets" ? "secret" : "configmap";
      if (!obj) return optional ? undefined : new Error(`${kind} "${name}" not found`);
      const v = dataOf(obj).get(key);
      if (v === undefined) {
        return optional
          ? undefined
          : new Error(
              `couldn't find key ${key} in ${resource === "secrets" ? "Secret" : "ConfigMap"} ${rp.ns}/${name}`,
            );
      }
      return v.toString("utf8");
    };
    for (const from of c.envFrom ?? []) {
      const ref = from.configMapRef ?? from.secretRef;
      if (!ref) continue;
      const resource = from.configMapRef ? "configmaps" : "secrets";
      const obj = this.store.get(resource, rp.ns, ref.name);
      if (!obj) {
        if (ref.optional) continue;
        return { error: `${resource === "secrets" ? "secret" : "configmap"} "${ref.name}" not found` };
      }
      for (const [k, v] of dataOf(obj)) out.push(`${from.prefix ?? ""}${k}=${v.toString("utf8")}`);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom) {
        const sk = e.valueFrom.secretKeyRef;
        const ck = e.valueFrom.configMapKeyRef;
        const fr = e.valueFrom.fieldRef;
        let v: string | undefined | Error;
        if (sk) v = lookup("secrets", String(sk.name), String(sk.key), sk.optional === true);
        else if (ck) v = lookup("configmaps", String(ck.name), String(ck.key), ck.optional === true);
        else if (fr) v = fieldRef(pod, String(fr.fieldPath));
        if (v instanceof Error) return { error: v.message };
        if (v !== undefined) out.push(`${e.name}=${v}`);
      } else out.push(`${e.name}=${e.value ?? ""}`);
    }
    return { env: out };
  }

  private async runContainer(
    rp: RunningPod,
    c: ContainerSpec,
    init: boolean,
    image: string,
    env: string[],
    volumes: Map<string, string>,
    pauseId: string,
    failures: PodFailure[],
  ): Promise<number> {
    const binds = (c.volumeMounts ?? []).map((m) => {
      const src = volumes.get(m.name) ?? path.join(rp.dir, "volumes", m.name);
      return `${m.subPath ? path.join(src, m.subPath) : src}:${m.mountPath}${m.readOnly ? ":ro" : ""}`;
    });
    for (const m of c.volumeMounts ?? []) {
      if (!m.subPath) continue;
      // The kubelet makes a missing subPath a folder.
      const src = path.join(volumes.get(m.name) ?? "", m.subPath);
      await mkdir(src, { recursive: true, mode: 0o777 }).catch(() => undefined);
    }
    const memory = parseMemory(c.resources?.limits?.memory);
    const container = await this.docker.createContainer({
      Image: image,
      ...(c.command ? { Entrypoint: c.command } : {}),
      ...(c.args ? { Cmd: c.args } : c.command ? { Cmd: [] } : {}),
      Env: env,
      ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
      Labels: { "skiff.dev/kube-double": rp.uid },
      HostConfig: {
        Binds: binds,
        NetworkMode: `container:${pauseId}`,
        ...(memory ? { Memory: Math.max(memory, 6 * 2 ** 20) } : {}),
      },
    });
    rp.containers.set(c.name, container.id);
    const log: ContainerLog = { chunks: [], ended: false, listeners: new Set() };
    const stream = (await container.attach({
      stream: true,
      stdout: true,
      stderr: true,
    })) as NodeJS.ReadableStream;
    const out = new PassThrough();
    this.docker.modem.demuxStream(stream, out, out);
    out.on("data", (chunk: Buffer) => {
      log.chunks.push(chunk);
      for (const l of log.listeners) l(chunk);
    });
    const streamEnded = new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", () => resolve());
    });
    if (rp.stopped) return 137;
    try {
      await container.start();
    } catch (e) {
      this.setContainer(rp, init, c.name, {
        terminated: {
          exitCode: 128,
          reason: "StartError",
          message: (e as Error).message,
          startedAt: now(),
          finishedAt: now(),
        },
      });
      endLog(log);
      rp.logs.set(c.name, log);
      return 128;
    }
    rp.logs.set(c.name, log);
    const startedAt = now();
    this.setContainer(
      rp,
      init,
      c.name,
      { running: { startedAt } },
      { containerID: `docker://${container.id}`, image: c.image, imageID: image },
    );
    const oom = failures.find((f) => f.kind === "OOMKilled" && f.container === c.name) as
      { afterMs?: number } | undefined;
    if (oom) {
      rp.timers.push(
        setTimeout(
          () => void container.kill({ signal: "SIGKILL" }).catch(() => undefined),
          oom.afterMs ?? 200,
        ),
      );
    }
    const result = (await container.wait().catch(() => ({ StatusCode: 137 }))) as { StatusCode: number };
    await Promise.race([streamEnded, sleep(2000)]);
    endLog(log);
    const state = await container.inspect().catch(() => undefined);
    const code = result.StatusCode;
    const reason = oom || state?.State.OOMKilled ? "OOMKilled" : code === 0 ? "Completed" : "Error";
    this.setContainer(rp, init, c.name, {
      terminated: {
        exitCode: code,
        reason,
        startedAt,
        finishedAt: now(),
        containerID: `docker://${container.id}`,
      },
    });
    return code;
  }
}

function endLog(log: ContainerLog): void {
  if (log.ended) return;
  log.ended = true;
  for (const l of log.listeners) l(null);
}

/** A ConfigMap's `data`/`binaryData` or a Secret's `data`/`stringData`, decoded. */
function dataOf(obj: KObject | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!obj) return out;
  const secret = obj.kind === "Secret";
  for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) {
    out.set(k, secret ? Buffer.from(v, "base64") : Buffer.from(v, "utf8"));
  }
  for (const [k, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>)) {
    out.set(k, Buffer.from(v, "base64"));
  }
  for (const [k, v] of Object.entries((obj.stringData ?? {}) as Record<string, string>)) {
    out.set(k, Buffer.from(v, "utf8"));
  }
  return out;
}

function fieldRef(pod: KObject, fieldPath: string): string | undefined {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m)
    return (pod.metadata?.[m[1] as "labels" | "annotations"] as Record<string, string> | undefined)?.[m[2]!];
  switch (fieldPath) {
    case "metadata.name":
      return pod.metadata?.name;
    case "metadata.namespace":
      return pod.metadata?.namespace;
    case "metadata.uid":
      return pod.metadata?.uid;
    case "spec.nodeName":
      return NODE_NAME;
    case "spec.serviceAccountName":
      return String((pod.spec as Record<string, unknown>).serviceAccountName ?? "default");
    case "status.podIP":
      return String((pod.status as Record<string, unknown> | undefined)?.podIP ?? "");
    case "status.hostIP":
      return "127.0.0.1";
    default:
      return undefined;
  }
}

function parseMemory(q: string | undefined): number | undefined {
  if (!q) return undefined;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T|k)?$/.exec(q);
  if (!m) return undefined;
  const mult: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round(Number(m[1]) * (m[2] ? mult[m[2]]! : 1));
}

function now(): string {
  return new Date().toISOString();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
