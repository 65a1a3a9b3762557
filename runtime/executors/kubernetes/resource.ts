import { parseAllDocuments } from "yaml";
import { SkiffError } from "../../errors/index.js";
import type { StepRequest, StepResult } from "../../interfaces/executor.js";
import type { K8sObject, Parameter } from "../../spec/types.js";
import { rawRequest } from "./api.js";
import { KUBE_CODES } from "./codes.js";
import type { KubeRuntime } from "./kubernetes.js";
import { LABELS, labelValue } from "./spec.js";

/*
 * Argo's `resource` templates, run from the controller's process through the API (Argo runs `argoexec
 * resource` in the step's pod with the pod's service account; Skiff's controller uses its own credentials).
 * The step still gets a pod of its name, so manifests that patch `{{pod.name}}` find it, as in Argo.
 */

/** Time between two reads of an object waiting for its success or failure condition (Argo: 5 s). */
const CONDITION_POLL_MS = 1000;

interface ApiResource {
  path: string;
  kind: string;
  namespaced: boolean;
}

/** How a resource template's API calls are made: raw requests on the executor's KubeConfig. */
class ResourceClient {
  private readonly discovered = new Map<
    string,
    Promise<{ name: string; kind: string; singularName?: string; namespaced: boolean }[]>
  >();

  constructor(private readonly runtime: KubeRuntime) {}

  async request(method: string, path: string, body?: unknown, contentType?: string): Promise<K8sObject> {
    const res = await rawRequest(this.runtime.clients.config, method, path, body, contentType);
    if (res.status >= 200 && res.status < 300) return res.body as K8sObject;
    const err = new Error(String(res.body.message ?? `HTTP ${res.status}`)) as Error & { code: number };
    err.code = res.status;
    throw err;
  }

  private resources(groupVersion: string) {
    let p = this.discovered.get(groupVersion);
    if (!p) {
      const path = groupVersion.includes("/") ? `/apis/${groupVersion}` : `/api/${groupVersion}`;
      p = this.request("GET", path).then((l) => (l.resources ?? []) as never);
      this.discovered.set(groupVersion, p);
      p.catch(() => this.discovered.delete(groupVersion));
    }
    return p;
  }

  /** The API path of an object's collection, from its apiVersion and kind (discovery, as kubectl does). */
  async collection(apiVersion: string, kind: string, namespace: string): Promise<ApiResource> {
    const list = await this.resources(apiVersion);
    const r = list.find((x) => x.kind === kind && !x.name.includes("/"));
    if (!r) throw new Error(`the server has no resource of kind '${kind}' in ${apiVersion}`);
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return {
      path: r.namespaced
        ? `${base}/namespaces/${encodeURIComponent(namespace)}/${r.name}`
        : `${base}/${r.name}`,
      kind: r.kind,
      namespaced: r.namespaced,
    };
  }

  /** A kind named as kubectl takes it (`pod`, `pods`, `Pod`, `jobs.batch`): its apiVersion and kind. */
  async lookup(name: string): Promise<{ apiVersion: string; kind: string }> {
    const [res, group] = [name.split(".")[0]!.toLowerCase(), name.split(".").slice(1).join(".")];
    const versions = group
      ? ((
          (await this.request("GET", `/apis/${group}`)).versions as { groupVersion: string }[] | undefined
        )?.map((v) => v.groupVersion) ?? [])
      : [
          "v1",
          ...(
            ((await this.request("GET", "/apis")).groups ?? []) as {
              preferredVersion: { groupVersion: string };
            }[]
          ).map((g) => g.preferredVersion.groupVersion),
        ];
    for (const gv of versions) {
      const list = await this.resources(gv).catch(() => []);
      const r = list.find(
        (x) =>
          !x.name.includes("/") && (x.name === res || x.singularName === res || x.kind.toLowerCase() === res),
      );
      if (r) return { apiVersion: gv, kind: r.kind };
    }
    throw new Error(`the server doesn't have a resource type "${name}"`);
  }
}

/** A `successCondition`/`failureCondition` requirement: label-selector syntax over paths of the object. */
interface Requirement {
  path: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!exists" | ">" | "<";
  values: string[];
}

export function parseCondition(text: string): Requirement[] {
  const out: Requirement[] = [];
  for (const raw of text
    .split(/,(?![^(]*\))/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    let m = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(raw);
    if (m) {
      out.push({ path: m[1]!, op: m[2] as "in", values: m[3]!.split(",").map((v) => v.trim()) });
      continue;
    }
    m = /^([^!=<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(raw);
    if (m) {
      out.push({ path: m[1]!, op: (m[2] === "==" ? "=" : m[2]) as "=", values: [m[3]!.trim()] });
      continue;
    }
    if (raw.startsWith("!")) out.push({ path: raw.slice(1), op: "!exists", values: [] });
    else out.push({ path: raw, op: "exists", values: [] });
  }
  return out;
}

/** A gjson-style path (`status.phase`, `status.conditions.0.type`, `items.#`) into an object. */
export function valueAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (cur === undefined || cur === null) return undefined;
    if (part === "#" && Array.isArray(cur)) return cur.length;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === "object" ? JSON.stringify(v) : String(v as string);
}

export function conditionHolds(reqs: Requirement[], obj: unknown): boolean {
  return reqs.every((r) => {
    const v = text(valueAt(obj, r.path));
    switch (r.op) {
      case "=":
        return v === r.values[0];
      case "!=":
        return v !== r.values[0];
      case "in":
        return v !== undefined && r.values.includes(v);
      case "notin":
        return v === undefined || !r.values.includes(v);
      case "exists":
        return v !== undefined;
      case "!exists":
        return v === undefined;
      case ">":
        return Number(v) > Number(r.values[0]);
      case "<":
        return Number(v) < Number(r.values[0]);
    }
  });
}

/** A kubectl JSONPath template (`{.metadata.name}`, `{.items[0].status.phase}`) read from an object. */
export function jsonPath(obj: unknown, expr: string): string {
  return expr.replace(/\{([^}]*)\}/g, (_all, inner: string) => {
    const p = inner
      .trim()
      .replace(/^\$?\./, "")
      .replace(/\[(\d+)\]/g, ".$1");
    return text(p === "" ? obj : valueAt(obj, p)) ?? "";
  });
}

/** The part of jq Argo's examples use: `.a.b`, `.a[0]`, `.a | .b`, `.`; strings come out raw. */
export function jqFilter(obj: unknown, expr: string): string {
  let cur: unknown = obj;
  for (const stage of expr.split("|").map((s) => s.trim())) {
    const p = stage
      .replace(/^\./, "")
      .replace(/\[(\d+)\]/g, ".$1")
      .replace(/^\./, "");
    cur = p === "" ? cur : valueAt(cur, p);
  }
  return typeof cur === "string" ? cur : JSON.stringify(cur ?? null);
}

/** kubectl's positional `flags`: `kind name`, `kind/name`, `-n ns`; others are kept as given. */
function parseFlags(flags: string[]): { kind?: string; name?: string; namespace?: string } {
  const out: { kind?: string; name?: string; namespace?: string } = {};
  const positional: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    if (f === "-n" || f === "--namespace") out.namespace = flags[++i];
    else if (f.startsWith("--namespace=")) out.namespace = f.slice(12);
    else if (!f.startsWith("-")) positional.push(f);
  }
  if (positional[0]?.includes("/")) [out.kind, out.name] = positional[0].split("/") as [string, string];
  else [out.kind, out.name] = [positional[0], positional[1]];
  return out;
}

/** Runs a resource template's action; the result is the node's, with Argo's phases. */
export async function runResource(
  runtime: KubeRuntime,
  request: StepRequest,
  signal: AbortSignal,
): Promise<StepResult> {
  const startedAt = new Date().toISOString();
  const client = new ResourceClient(runtime);
  const res = request.template.resource as unknown as K8sObject;
  const action = String(res.action ?? "");
  const namespace = runtime.namespaceOf(request);
  const result = (phase: StepResult["phase"], message?: string, parameters?: Parameter[]): StepResult => ({
    phase,
    exitCode: phase === "Succeeded" ? 0 : 1,
    ...(message ? { message } : {}),
    outputs: { ...(parameters?.length ? { parameters } : {}), exitCode: phase === "Succeeded" ? "0" : "1" },
    startedAt,
    finishedAt: new Date().toISOString(),
  });
  const fail = (e: unknown): StepResult =>
    result("Error", `${KUBE_CODES["SKF-KUBE-007"]}: ${action}: ${(e as Error).message}`);

  // The step's pod, as Argo's resource templates have one: manifests may patch `{{pod.name}}`.
  runtime.noteWorkflow(request);
  await runtime.limiter.take();
  const pod = await runtime.clients.core
    .createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name: request.podName,
          labels: {
            [LABELS.workflow]: request.workflowName,
            [LABELS.completed]: "false",
            [LABELS.managedBy]: "skiff",
            [LABELS.workflowUid]: labelValue(request.workflowUid),
            [LABELS.executor]: runtime.settings.instanceId,
          },
          annotations: {
            "workflows.argoproj.io/node-name": request.nodeName,
            "workflows.argoproj.io/node-id": request.nodeId,
          },
        },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "main",
              image: runtime.settings.executorImage,
              command: ["sh", "-c", "sleep 86400"],
            },
          ],
          terminationGracePeriodSeconds: 0,
        },
      },
    })
    .catch((e: unknown) => e as Error);
  if (pod instanceof Error) return fail(pod);
  try {
    const manifest = String(res.manifest ?? "");
    const flags = parseFlags(((res.flags as string[] | undefined) ?? []).map(String));
    const docs = manifest.trim() ? parseAllDocuments(manifest).map((d) => d.toJS() as unknown) : [];
    const body = docs[0];
    if (body === undefined && !flags.kind) {
      throw new SkiffError(
        KUBE_CODES["SKF-KUBE-007"],
        "the resource template has neither a manifest nor flags",
      );
    }
    const strategy = String(res.mergeStrategy ?? "strategic");
    const isObject = body !== null && typeof body === "object" && !Array.isArray(body);
    const obj = (isObject ? body : {}) as K8sObject;
    const meta = (obj.metadata ?? {}) as K8sObject;
    let apiVersion = String(obj.apiVersion ?? "");
    let kind = String(obj.kind ?? "");
    if ((!apiVersion || !kind) && flags.kind) ({ apiVersion, kind } = await client.lookup(flags.kind));
    const ns = String(meta.namespace ?? flags.namespace ?? namespace);
    const coll = await client.collection(apiVersion, kind, ns);
    const name = String(meta.name ?? flags.name ?? "");
    const at = (n: string) => `${coll.path}/${encodeURIComponent(n)}`;
    let live: K8sObject | undefined;
    switch (action) {
      case "get":
        live = await client.request("GET", at(name));
        break;
      case "create":
        live = await client.request("POST", coll.path, {
          ...obj,
          metadata: { ...meta, namespace: coll.namespaced ? ns : undefined },
        });
        break;
      case "apply": {
        const exists = name ? await client.request("GET", at(name)).catch(() => undefined) : undefined;
        live = exists
          ? await client.request("PATCH", at(name), obj, "application/merge-patch+json")
          : await client.request("POST", coll.path, obj);
        break;
      }
      case "replace": {
        const cur = await client.request("GET", at(name));
        const m = { ...meta, resourceVersion: (cur.metadata as K8sObject).resourceVersion };
        live = await client.request("PUT", at(name), { ...obj, metadata: m });
        break;
      }
      case "delete":
        await client.request("DELETE", at(name)).catch((e: { code?: number }) => {
          if (e.code !== 404) throw e;
        });
        return result("Succeeded");
      case "patch": {
        const type =
          strategy === "json"
            ? "application/json-patch+json"
            : strategy === "merge"
              ? "application/merge-patch+json"
              : "application/strategic-merge-patch+json";
        live = await client.request("PATCH", at(name), body, type);
        break;
      }
      default:
        throw new SkiffError(
          KUBE_CODES["SKF-KUBE-007"],
          `unknown action '${action}' (get, create, apply, delete, replace, patch)`,
        );
    }
    const liveName = String((live?.metadata as K8sObject | undefined)?.name ?? name);
    if (res.setOwnerReference === true) runtime.ownedByWorkflow(request, coll.path, liveName);
    const success = typeof res.successCondition === "string" ? parseCondition(res.successCondition) : [];
    const failure = typeof res.failureCondition === "string" ? parseCondition(res.failureCondition) : [];
    while (success.length > 0 || failure.length > 0) {
      live = await client.request("GET", at(liveName));
      if (failure.length > 0 && conditionHolds(failure, live)) {
        return result("Failed", `failed condition: ${String(res.failureCondition)}`);
      }
      if (success.length === 0 || conditionHolds(success, live)) break;
      await new Promise((resolve) => setTimeout(resolve, CONDITION_POLL_MS));
      if (signal.aborted) return result("Failed", "stopped");
    }
    const parameters: Parameter[] = [];
    for (const p of request.template.outputs?.parameters ?? []) {
      const from = p.valueFrom as K8sObject | undefined;
      let value: string | undefined;
      if (typeof from?.jsonPath === "string") value = jsonPath(live, from.jsonPath);
      else if (typeof from?.jqFilter === "string") value = jqFilter(live, from.jqFilter);
      if (value === undefined || value === "")
        value = from?.default === undefined ? value : String(from.default);
      parameters.push({ ...p, value: value ?? "" });
    }
    return result("Succeeded", undefined, parameters);
  } catch (e) {
    return fail(e);
  } finally {
    await runtime.deletePod(namespace, request.podName, 0).catch(() => undefined);
  }
}
