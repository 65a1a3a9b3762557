import { existsSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { homedir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig, Log, PolicyV1Api, Watch, type V1Pod } from "@kubernetes/client-node";
import { SkiffError } from "../../errors/index.js";
import { KUBE_CODES } from "./codes.js";

/*
 * The executor's view of the API server: typed clients, a client-side rate limiter for creations, one pod
 * watch per namespace (list, then watch from its resourceVersion, re-listed when the watch ends) that hands
 * each pod's updates to whoever follows it, and API errors turned into SkiffErrors.
 */

/** The clients of one cluster. */
export interface KubeClients {
  config: KubeConfig;
  core: CoreV1Api;
  policy: PolicyV1Api;
  log: Log;
  watch: Watch;
}

export function clientsOf(config: KubeConfig): KubeClients {
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    policy: config.makeApiClient(PolicyV1Api),
    log: new Log(config),
    watch: new Watch(config),
  };
}

/**
 * Loads a kubeconfig: a given file, else `KUBECONFIG`/`~/.kube/config`/the in-cluster service account (as
 * kubectl does); `context` picks a context. Throws SKF-KUBE-001 when none names a cluster.
 */
export function loadKubeConfig(options: { kubeconfig?: string; context?: string }): KubeConfig {
  const kc = new KubeConfig();
  // With nothing to read, client-node's loadFromDefault falls back to http://localhost:8080, which every
  // request would then fail against with a confusing message: say plainly that no cluster is configured.
  if (!options.kubeconfig && !defaultConfigExists()) {
    throw new SkiffError(
      KUBE_CODES["SKF-KUBE-001"],
      "no Kubernetes cluster is configured (no KUBECONFIG, ~/.kube/config or in-cluster service account)",
    );
  }
  try {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new SkiffError(
      KUBE_CODES["SKF-KUBE-001"],
      `could not read the kubeconfig${options.kubeconfig ? ` '${options.kubeconfig}'` : ""}: ${(e as Error).message}`,
    );
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      throw new SkiffError(
        KUBE_CODES["SKF-KUBE-001"],
        `the kubeconfig has no context '${options.context}' (it has: ${kc.contexts.map((c) => c.name).join(", ") || "none"})`,
      );
    }
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new SkiffError(
      KUBE_CODES["SKF-KUBE-001"],
      "no Kubernetes cluster is configured (no KUBECONFIG, ~/.kube/config or in-cluster service account)",
    );
  }
  return kc;
}

/** Whether kubectl's defaults name a config: KUBECONFIG, ~/.kube/config, or a pod's service account. */
function defaultConfigExists(): boolean {
  if (process.env.KUBECONFIG) return true;
  if (existsSync(join(homedir(), ".kube", "config"))) return true;
  return (
    process.env.KUBERNETES_SERVICE_HOST !== undefined &&
    existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token")
  );
}

/** The HTTP status of an API error (0 when there is none: the server did not answer). */
export function statusOf(e: unknown): number {
  const code = (e as { code?: unknown }).code;
  return typeof code === "number" ? code : 0;
}

/** The API server's message of an error (its `Status` body), else the error's own. */
export function apiMessage(e: unknown): string {
  const body = (e as { body?: unknown }).body;
  let parsed: unknown = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  const status = parsed as { message?: string; reason?: string } | undefined;
  if (status?.message) return `${status.reason ? `${status.reason}: ` : ""}${status.message}`;
  return (e as Error).message.split("\n")[0] ?? String(e);
}

/** An API error as a SkiffError naming what was asked: `create pod x: 403 Forbidden: ...`. */
export function apiError(what: string, e: unknown): SkiffError {
  const code = statusOf(e);
  return new SkiffError(KUBE_CODES["SKF-KUBE-002"], `${what}: ${code ? `${code} ` : ""}${apiMessage(e)}`);
}

/**
 * A token bucket: `qps` tokens a second, at most `burst` at once. Pod creations take a token each, as Argo's
 * pod-creation limiter and client-go's QPS/Burst do, so a large fan-out does not flood the API server.
 */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private queue: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): Promise<void> {
    this.refill();
    if (this.queue.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.queue.push(resolve);
      this.schedule();
    });
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(1, ((1 - this.tokens) / this.qps) * 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.queue.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.queue.shift()!();
      }
      if (this.queue.length > 0) this.schedule();
    }, wait);
  }
}

/** Receives every update of one pod; `undefined` once it was deleted. */
export type PodListener = (pod: V1Pod | undefined) => void;

/**
 * One watch of the executor's pods in a namespace (label `app.kubernetes.io/managed-by=skiff`), shared by
 * every step there: no poll per pod. Starts with a list (its resourceVersion starts the watch), restarts
 * from the last resourceVersion seen when the stream ends, and re-lists on `410 Gone`.
 */
export class PodWatch {
  private readonly listeners = new Map<string, Set<PodListener>>();
  private abort: AbortController | undefined;
  private rv: string | undefined;
  private stopped = false;
  private started: Promise<void> | undefined;

  constructor(
    private readonly clients: KubeClients,
    readonly namespace: string,
    private readonly selector: string,
  ) {}

  /** Follows a pod by name; returns the function that stops following it. */
  follow(name: string, listener: PodListener): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(name);
    };
  }

  /** Starts the watch once; later calls wait for the first list. */
  ensure(): Promise<void> {
    this.started ??= this.relist();
    return this.started;
  }

  private emit(name: string, pod: V1Pod | undefined): void {
    for (const l of [...(this.listeners.get(name) ?? [])]) l(pod);
  }

  private async relist(): Promise<void> {
    const list = await this.clients.core.listNamespacedPod({
      namespace: this.namespace,
      labelSelector: this.selector,
    });
    this.rv = list.metadata?.resourceVersion;
    const present = new Set<string>();
    for (const p of list.items) {
      const name = p.metadata?.name ?? "";
      present.add(name);
      this.emit(name, p);
    }
    for (const name of this.listeners.keys()) if (!present.has(name)) this.emit(name, undefined);
    await this.watch();
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const path = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`;
    let gone = false;
    this.abort = await this.clients.watch.watch(
      path,
      { labelSelector: this.selector, resourceVersion: this.rv, allowWatchBookmarks: true },
      (type: string, obj: V1Pod & { code?: number }) => {
        if (type === "ERROR") {
          gone = true;
          return;
        }
        if (obj.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
        if (type === "BOOKMARK") return;
        this.emit(obj.metadata?.name ?? "", type === "DELETED" ? undefined : obj);
      },
      () => {
        if (this.stopped) return;
        // The stream ended (server timeout, inactivity, 410 Gone): resume, or list again when too old.
        setTimeout(() => {
          (gone ? this.relist() : this.watch()).catch(() =>
            setTimeout(() => void this.relist().catch(() => undefined), 1000),
          );
        }, 50).unref();
      },
    );
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }
}

/** A request's answer: the HTTP status and the JSON body (or `{message}` for a body that is not JSON). */
export interface RawAnswer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * A request to any API path with the kubeconfig's credentials (resource templates reach kinds the typed
 * clients do not know). Throws only when the server cannot be reached.
 */
export async function rawRequest(
  config: KubeConfig,
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
): Promise<RawAnswer> {
  const server = (config.getCurrentCluster()?.server ?? "").replace(/\/$/, "");
  const url = new URL(`${server}${path}`);
  const opts: https.RequestOptions = { method, headers: { accept: "application/json" } };
  await config.applyToHTTPSOptions(opts);
  if (url.protocol === "http:") delete opts.agent;
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  if (payload)
    Object.assign(opts.headers!, { "content-type": contentType, "content-length": payload.length });
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = (url.protocol === "http:" ? http : https).request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: Record<string, unknown>;
        try {
          parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          parsed = { message: text };
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}
