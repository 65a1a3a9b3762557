/**
 * A test double of the Kubernetes API server: a real HTTP server on loopback that `@kubernetes/client-node`
 * talks to through a generated kubeconfig. It validates every object it receives against the Kubernetes
 * OpenAPI schema, answers with Kubernetes' status codes and `Status` bodies, serves create/get/list/watch/
 * patch/replace/delete for core and generic resources and the pod `log` subresource, garbage-collects objects
 * whose owner was deleted, and runs pods on the local Docker engine (see `pods.ts`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { PodRunner, type PodFailure, type PodRunnerOptions } from "./pods.js";
import {
  InvalidObject,
  KNOWN_RESOURCES,
  ObjectStore,
  parseSelector,
  type KObject,
  type ResourceType,
  type ValidationStats,
  type WatchEvent,
} from "./store.js";

export type { KObject, PodFailure, ValidationStats };

export interface KubeApiDoubleOptions extends Partial<PodRunnerOptions> {
  /** Do not run pods' containers: pods stay Pending (for API-level tests without Docker). */
  runPods?: boolean;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

interface Route {
  type: ResourceType;
  ns: string | undefined;
  name: string | undefined;
  sub: string | undefined;
}

export class KubeApiDouble {
  readonly store = new ObjectStore();
  readonly runner: PodRunner;
  private server: Server | undefined;
  private port = 0;
  private readonly dir: string;
  /** Requests by `METHOD resource[/sub]`, for tests and the benchmark. */
  readonly requests: Record<string, number> = {};
  private readonly types = new Map<string, ResourceType>();
  private readonly runPods: boolean;
  private readonly streams = new Set<ServerResponse>();

  constructor(options: KubeApiDoubleOptions = {}) {
    this.dir = mkdtempSync(path.join(options.workDir ?? tmpdir(), "skiff-kube-double-"));
    for (const t of KNOWN_RESOURCES) this.types.set(`${t.apiVersion}/${t.plural}`, t);
    this.runPods = options.runPods ?? true;
    this.runner = new PodRunner(this.store, {
      imageMap: options.imageMap ?? {},
      workDir: this.dir,
      nodeLabels: options.nodeLabels ?? {
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": "kube-double",
      },
      pauseImage: options.pauseImage ?? "skiff-test/busybox:latest",
      ...(options.simulate ? { simulate: true } : {}),
      ...(options.docker ? { docker: options.docker } : {}),
    });
  }

  /** Starts listening on a loopback port; returns the server's URL. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (e instanceof HttpError) this.status(res, e.code, e.reason, e.message, e.details);
        else this.status(res, 500, "InternalError", (e as Error).message);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Writes a kubeconfig naming this server (context `kube-double`, default namespace `namespace`). */
  writeKubeconfig(file = path.join(this.dir, "kubeconfig"), namespace = "default"): string {
    const config = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "kube-double", cluster: { server: this.url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "kube-double", user: { token: "double-token" } }],
      contexts: [
        { name: "kube-double", context: { cluster: "kube-double", user: "kube-double", namespace } },
      ],
      "current-context": "kube-double",
    };
    writeFileSync(file, JSON.stringify(config, null, 2));
    return file;
  }

  /** Scripts a failure for pods whose name starts with `podNamePrefix` (see `PodFailure`). */
  scriptFailure(podNamePrefix: string, failure: PodFailure, options: { once?: boolean } = {}): void {
    this.runner.failures.push({ prefix: podNamePrefix, failure, ...options });
  }

  /** Stops serving; stops every pod's containers and removes them from the engine. */
  async stop(): Promise<void> {
    for (const s of this.streams) s.end();
    await this.runner.stopAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  /** Objects still stored, other than namespaces and service accounts (the cluster's own). */
  leftovers(): string[] {
    return this.store
      .all()
      .filter((o) => !["namespaces", "serviceaccounts", "events"].includes(o.resource))
      .map((o) => `${o.resource}/${o.namespace}/${o.name}`);
  }

  // -------------------------------------------------------------------------------------------------
  // HTTP

  private status(
    res: ServerResponse,
    code: number,
    reason: string,
    message: string,
    details?: Record<string, unknown>,
  ): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    res.writeHead(code, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message,
        reason,
        ...(details ? { details } : {}),
        code,
      }),
    );
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://double");
    const segs = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? "GET";
    if (this.discovery(segs, res)) return;
    const route = this.route(segs);
    const count = `${method} ${route.type.plural}${route.sub ? `/${route.sub}` : ""}`;
    this.requests[count] = (this.requests[count] ?? 0) + 1;
    const q = url.searchParams;
    const plural = route.type.plural;
    if (route.sub === "log") return this.log(route, q, res);
    if (route.sub && route.sub !== "status") {
      throw new HttpError(404, "NotFound", `the server could not find the requested resource (${route.sub})`);
    }
    switch (method) {
      case "GET":
        if (!route.name) {
          if (q.get("watch") === "true" || q.get("watch") === "1") return this.watch(route, q, res);
          const items = this.store.list(
            plural,
            route.ns,
            parseSelector(q.get("labelSelector")),
            parseSelector(q.get("fieldSelector")),
          );
          return this.json(res, 200, {
            apiVersion: route.type.apiVersion,
            kind: `${route.type.kind}List`,
            metadata: { resourceVersion: String(this.store.resourceVersion) },
            items,
          });
        }
        return this.json(res, 200, this.mustGet(route));
      case "POST":
        return this.json(res, 201, await this.create(route, await body(req)));
      case "PUT":
        return this.json(res, 200, await this.replace(route, await body(req)));
      case "PATCH":
        return this.json(res, 200, await this.patch(route, req));
      case "DELETE":
        if (!route.name) {
          const items = this.store.list(plural, route.ns, parseSelector(q.get("labelSelector")));
          for (const o of items) this.delete(route.type, route.ns ?? "", String(o.metadata?.name), 0);
          return this.json(res, 200, { kind: `${route.type.kind}List`, apiVersion: "v1", items });
        }
        return this.json(
          res,
          200,
          this.delete(route.type, route.ns ?? "", route.name, graceOf(q, await body(req).catch(() => ({})))),
        );
      default:
        throw new HttpError(405, "MethodNotAllowed", `method ${method} is not supported`);
    }
  }

  /** `/api`, `/apis`, `/api/v1`, `/apis/<g>/<v>`: what KubernetesObjectApi asks to map kinds to resources. */
  private discovery(segs: string[], res: ServerResponse): boolean {
    const groupVersion =
      segs[0] === "api" && segs.length === 2
        ? segs[1]!
        : segs[0] === "apis" && segs.length === 3
          ? `${segs[1]}/${segs[2]}`
          : undefined;
    if (segs.length === 1 && segs[0] === "api") {
      this.json(res, 200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] });
      return true;
    }
    if (segs.length === 1 && segs[0] === "apis") {
      const groups = [
        ...new Set([...this.types.values()].map((t) => t.apiVersion).filter((v) => v.includes("/"))),
      ];
      this.json(res, 200, {
        kind: "APIGroupList",
        apiVersion: "v1",
        groups: groups.map((gv) => ({
          name: gv.split("/")[0],
          versions: [{ groupVersion: gv, version: gv.split("/")[1] }],
          preferredVersion: { groupVersion: gv, version: gv.split("/")[1] },
        })),
      });
      return true;
    }
    if (!groupVersion) return false;
    this.json(res, 200, {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion,
      resources: [...this.types.values()]
        .filter((t) => t.apiVersion === groupVersion)
        .map((t) => ({
          name: t.plural,
          singularName: t.kind.toLowerCase(),
          namespaced: t.namespaced,
          kind: t.kind,
          verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        })),
    });
    return true;
  }

  private route(segs: string[]): Route {
    let apiVersion: string;
    let rest: string[];
    if (segs[0] === "api" && segs[1] === "v1") {
      apiVersion = "v1";
      rest = segs.slice(2);
    } else if (segs[0] === "apis" && segs.length >= 4) {
      apiVersion = `${segs[1]}/${segs[2]}`;
      rest = segs.slice(3);
    } else throw new HttpError(404, "NotFound", "the server could not find the requested resource");
    let ns: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3) {
      ns = rest[1];
      rest = rest.slice(2);
    }
    const plural = rest[0]!;
    let type = this.types.get(`${apiVersion}/${plural}`);
    if (!type) {
      // A custom resource: served generically, its kind learnt from the first object created.
      const kind = plural.replace(/s$/, "").replace(/^./, (c) => c.toUpperCase());
      type = { plural, kind, apiVersion, namespaced: true };
      this.types.set(`${apiVersion}/${plural}`, type);
    }
    return { type, ns, name: rest[1], sub: rest[2] };
  }

  private mustGet(route: Route): KObject {
    const o = this.store.get(route.type.plural, route.ns ?? "", route.name ?? "");
    if (!o) throw notFound(route.type, route.name ?? "");
    return o;
  }

  private async create(route: Route, obj: KObject): Promise<KObject> {
    const { type } = route;
    const ns = type.namespaced ? (route.ns ?? "default") : "";
    obj.apiVersion ??= type.apiVersion;
    obj.kind ??= type.kind;
    if (obj.kind !== type.kind && this.types.get(`${type.apiVersion}/${type.plural}`) === type) {
      type.kind = String(obj.kind);
    }
    const meta = (obj.metadata ??= {});
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (!meta.name) {
      throw new HttpError(
        422,
        "Invalid",
        `${type.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
        { kind: type.kind },
      );
    }
    if (meta.namespace && ns && meta.namespace !== ns) {
      throw new HttpError(
        400,
        "BadRequest",
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    await this.check(obj, type);
    if (this.store.get(type.plural, ns, meta.name)) {
      throw new HttpError(409, "AlreadyExists", `${type.plural} "${meta.name}" already exists`, {
        name: meta.name,
        kind: type.plural,
      });
    }
    if (type.plural === "pods") {
      obj.status = { phase: "Pending", qosClass: "BestEffort" };
    }
    const stored = this.store.insert(type.plural, ns, obj);
    if (type.plural === "pods" && this.runPods) this.runner.run(stored);
    return stored;
  }

  private async check(obj: KObject, type: ResourceType): Promise<void> {
    try {
      await this.store.validate(obj);
    } catch (e) {
      if (!(e instanceof InvalidObject)) throw e;
      throw new HttpError(
        422,
        "Invalid",
        `${type.kind} "${obj.metadata?.name ?? ""}" is invalid: ${e.message}`,
        { name: obj.metadata?.name, kind: type.kind },
      );
    }
  }

  private async replace(route: Route, obj: KObject): Promise<KObject> {
    const old = this.mustGet(route);
    const rv = obj.metadata?.resourceVersion;
    if (rv && rv !== old.metadata?.resourceVersion) {
      throw new HttpError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${route.type.plural} "${route.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    obj.metadata = {
      ...obj.metadata,
      uid: old.metadata?.uid,
      creationTimestamp: old.metadata?.creationTimestamp,
    };
    if (route.type.plural === "pods") obj.status = old.status;
    await this.check(obj, route.type);
    return this.store.update(route.type.plural, route.ns ?? "", obj);
  }

  private async patch(route: Route, req: IncomingMessage): Promise<KObject> {
    const type = String(req.headers["content-type"] ?? "").split(";")[0]!;
    const raw = await text(req);
    const existing = this.store.get(route.type.plural, route.ns ?? "", route.name ?? "");
    if (type === "application/apply-patch+yaml") {
      const obj = parseYaml(raw) as KObject;
      if (!existing) return this.create(route, obj);
      return this.replace(route, mergePatch(structuredClone(existing), obj) as KObject);
    }
    if (!existing) throw notFound(route.type, route.name ?? "");
    let next: unknown;
    try {
      const patch: unknown = JSON.parse(raw);
      next =
        type === "application/json-patch+json"
          ? jsonPatch(structuredClone(existing), patch as JsonPatchOp[])
          : mergePatch(structuredClone(existing), patch);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, "BadRequest", `the patch could not be applied: ${(e as Error).message}`);
    }
    const obj = next as KObject;
    obj.metadata = { ...obj.metadata, resourceVersion: existing.metadata?.resourceVersion };
    if (route.sub !== "status") await this.check(obj, route.type);
    return this.store.update(route.type.plural, route.ns ?? "", obj);
  }

  /** Deletes an object; a pod first stops its containers (gracefully unless the grace is 0). */
  private delete(type: ResourceType, ns: string, name: string, grace: number | undefined): KObject {
    const obj = this.store.get(type.plural, ns, name);
    if (!obj) throw notFound(type, name);
    if (type.plural === "pods" && this.runPods) {
      if (!obj.metadata!.deletionTimestamp) {
        obj.metadata!.deletionTimestamp = new Date().toISOString();
        this.store.update("pods", ns, obj);
        const spec = obj.spec as { terminationGracePeriodSeconds?: number } | undefined;
        const seconds = grace ?? spec?.terminationGracePeriodSeconds ?? 30;
        void this.runner.stopPod(obj, seconds * 1000).then(() => this.finishDelete(type, ns, name));
      }
      return obj;
    }
    this.finishDelete(type, ns, name);
    return obj;
  }

  private finishDelete(type: ResourceType, ns: string, name: string): void {
    const gone = this.store.remove(type.plural, ns, name);
    const uid = gone?.metadata?.uid;
    if (!uid) return;
    // The garbage collector: dependents of a deleted owner go too (background propagation).
    for (const o of this.store.all()) {
      if (o.object.metadata?.ownerReferences?.some((r) => r.uid === uid)) {
        const t = [...this.types.values()].find((x) => x.plural === o.resource);
        if (t && this.store.get(o.resource, o.namespace, o.name)) this.delete(t, o.namespace, o.name, 0);
      }
    }
  }

  private watch(route: Route, q: URLSearchParams, res: ServerResponse): void {
    const selector = parseSelector(q.get("labelSelector"));
    const fields = parseSelector(q.get("fieldSelector"));
    const plural = route.type.plural;
    const fits = (o: KObject): boolean =>
      (route.ns === undefined || o.metadata?.namespace === route.ns) && selectorFits(o, selector, fields);
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    res.flushHeaders();
    this.streams.add(res);
    const send = (e: WatchEvent): void => {
      res.write(`${JSON.stringify(e)}\n`);
    };
    const rvParam = q.get("resourceVersion");
    if (rvParam && rvParam !== "0") {
      const past = this.store.since(plural, Number(rvParam));
      if (!past) {
        send({
          type: "ERROR" as "ADDED",
          object: {
            kind: "Status",
            apiVersion: "v1",
            status: "Failure",
            reason: "Expired",
            code: 410,
            message: `too old resource version: ${rvParam}`,
          },
        });
        res.end();
        this.streams.delete(res);
        return;
      }
      for (const e of past) if (fits(e.object)) send({ type: e.type, object: e.object });
    } else {
      for (const o of this.store.list(plural, route.ns, selector, fields)) send({ type: "ADDED", object: o });
    }
    const off = this.store.subscribe((resource, e) => {
      if (resource === plural && fits(e.object)) send(e);
    });
    res.on("close", () => {
      off();
      this.streams.delete(res);
    });
  }

  private log(route: Route, q: URLSearchParams, res: ServerResponse): void {
    const pod = this.mustGet(route);
    const spec = pod.spec as { containers?: { name: string }[]; initContainers?: { name: string }[] };
    const names = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c) => c.name);
    let container = q.get("container") ?? undefined;
    if (!container) {
      if ((spec.containers ?? []).length !== 1) {
        throw new HttpError(
          400,
          "BadRequest",
          `a container name must be specified for pod ${route.name}, choose one of: [${names.join(" ")}]`,
        );
      }
      container = spec.containers![0]!.name;
    }
    if (!names.includes(container)) {
      throw new HttpError(400, "BadRequest", `container ${container} is not valid for pod ${route.name}`);
    }
    const log = this.runner.logOf(pod, container);
    if (!log) {
      throw new HttpError(
        400,
        "BadRequest",
        `container "${container}" in pod "${route.name}" is waiting to start: ContainerCreating`,
      );
    }
    res.writeHead(200, { "content-type": "text/plain", "transfer-encoding": "chunked" });
    res.flushHeaders();
    for (const c of log.chunks) res.write(c);
    if (q.get("follow") !== "true" || log.ended) {
      res.end();
      return;
    }
    this.streams.add(res);
    const listener = (chunk: Buffer | null): void => {
      if (chunk) res.write(chunk);
      else res.end();
    };
    log.listeners.add(listener);
    res.on("close", () => {
      log.listeners.delete(listener);
      this.streams.delete(res);
    });
  }
}

function selectorFits(
  o: KObject,
  selector: ReturnType<typeof parseSelector>,
  fields: ReturnType<typeof parseSelector>,
): boolean {
  const labels = o.metadata?.labels ?? {};
  const lab = selector.every((r) => {
    const v = labels[r.key];
    if (r.op === "=") return v === r.values[0];
    if (r.op === "!=") return v !== r.values[0];
    if (r.op === "in") return v !== undefined && r.values.includes(v);
    if (r.op === "notin") return v === undefined || !r.values.includes(v);
    if (r.op === "exists") return v !== undefined;
    return v === undefined;
  });
  const fld = fields.every((r) => {
    const v =
      r.key === "metadata.name"
        ? o.metadata?.name
        : r.key === "metadata.namespace"
          ? o.metadata?.namespace
          : undefined;
    return r.op === "!=" ? v !== r.values[0] : v === r.values[0];
  });
  return lab && fld;
}

function notFound(type: ResourceType, name: string): HttpError {
  const group = type.apiVersion.includes("/") ? `.${type.apiVersion.split("/")[0]}` : "";
  return new HttpError(404, "NotFound", `${type.plural}${group} "${name}" not found`, {
    name,
    kind: type.plural,
  });
}

function graceOf(q: URLSearchParams, body: KObject): number | undefined {
  const g = q.get("gracePeriodSeconds") ?? (body as { gracePeriodSeconds?: number }).gracePeriodSeconds;
  return g === undefined || g === null ? undefined : Number(g);
}

async function text(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function body(req: IncomingMessage): Promise<KObject> {
  const raw = await text(req);
  if (!raw.trim()) return {};
  try {
    return JSON.parse(raw) as KObject;
  } catch {
    try {
      return parseYaml(raw) as KObject;
    } catch (e) {
      throw new HttpError(400, "BadRequest", `the body could not be decoded: ${(e as Error).message}`);
    }
  }
}

/** RFC 7386 JSON merge patch (strategic merge patches are applied as merge patches: lists are replaced). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === "object" && !Array.isArray(target)
      ? (target as Record<string, unknown>)
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

interface JsonPatchOp {
  op: "add" | "remove" | "replace" | "test" | "move" | "copy";
  path: string;
  value?: unknown;
}

/** RFC 6902 JSON patch (add, remove, replace, test). */
function jsonPatch(doc: unknown, ops: JsonPatchOp[]): unknown {
  for (const op of ops) {
    const parts = op.path
      .split("/")
      .slice(1)
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = parts.pop()!;
    let parent = doc as Record<string, unknown>;
    for (const p of parts) parent = parent[p] as Record<string, unknown>;
    if (parent === undefined) throw new HttpError(422, "Invalid", `path ${op.path} does not exist`);
    const isArr = Array.isArray(parent);
    if (op.op === "test") {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) {
        throw new HttpError(422, "Invalid", `test operation failed at ${op.path}`);
      }
    } else if (op.op === "remove") {
      if (isArr) (parent as unknown as unknown[]).splice(Number(last), 1);
      else delete parent[last];
    } else if (op.op === "add" && isArr) {
      const arr = parent as unknown as unknown[];
      arr.splice(last === "-" ? arr.length : Number(last), 0, op.value);
    } else parent[last] = op.value;
  }
  return doc;
}

function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 7);
}
