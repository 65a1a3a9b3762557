/**
 * The object store of the Kubernetes API double: objects by resource, namespace and name, a resourceVersion
 * counter, the event history watches replay from, label selectors, and validation of every object received
 * against the Kubernetes OpenAPI schema (through `kubernetes-models`, whose classes validate against it).
 */

/** A Kubernetes object as stored (JSON). */
export type KObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    uid?: string;
    resourceVersion?: string;
    ownerReferences?: { uid?: string; kind?: string; name?: string }[];
    deletionTimestamp?: string;
    generateName?: string;
  };
};

/** A resource the double serves: its plural, kind, group/version and scope. */
export interface ResourceType {
  plural: string;
  kind: string;
  /** `v1` for the core group, `group/version` otherwise. */
  apiVersion: string;
  namespaced: boolean;
}

export const KNOWN_RESOURCES: ResourceType[] = [
  { plural: "pods", kind: "Pod", apiVersion: "v1", namespaced: true },
  { plural: "configmaps", kind: "ConfigMap", apiVersion: "v1", namespaced: true },
  { plural: "secrets", kind: "Secret", apiVersion: "v1", namespaced: true },
  { plural: "persistentvolumeclaims", kind: "PersistentVolumeClaim", apiVersion: "v1", namespaced: true },
  { plural: "services", kind: "Service", apiVersion: "v1", namespaced: true },
  { plural: "serviceaccounts", kind: "ServiceAccount", apiVersion: "v1", namespaced: true },
  { plural: "events", kind: "Event", apiVersion: "v1", namespaced: true },
  { plural: "namespaces", kind: "Namespace", apiVersion: "v1", namespaced: false },
  { plural: "poddisruptionbudgets", kind: "PodDisruptionBudget", apiVersion: "policy/v1", namespaced: true },
  { plural: "jobs", kind: "Job", apiVersion: "batch/v1", namespaced: true },
  { plural: "deployments", kind: "Deployment", apiVersion: "apps/v1", namespaced: true },
  { plural: "roles", kind: "Role", apiVersion: "rbac.authorization.k8s.io/v1", namespaced: true },
  {
    plural: "rolebindings",
    kind: "RoleBinding",
    apiVersion: "rbac.authorization.k8s.io/v1",
    namespaced: true,
  },
  { plural: "workflows", kind: "Workflow", apiVersion: "argoproj.io/v1alpha1", namespaced: true },
  {
    plural: "workflowtemplates",
    kind: "WorkflowTemplate",
    apiVersion: "argoproj.io/v1alpha1",
    namespaced: true,
  },
];

/** A watch event as the API streams it. */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: KObject;
}

interface Recorded extends WatchEvent {
  rv: number;
  resource: string;
}

/** Counts of objects checked against the schema, for reporting (every pod spec must validate). */
export interface ValidationStats {
  validated: Record<string, number>;
  rejected: Record<string, number>;
  /** Kinds `kubernetes-models` has no model for (custom resources): stored unchecked. */
  unchecked: Record<string, number>;
}

/** A parsed label selector requirement (`k=v`, `k!=v`, `k in (a,b)`, `k notin (a)`, `k`, `!k`). */
export interface Requirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!exists";
  values: string[];
}

export function parseSelector(selector: string | null | undefined): Requirement[] {
  if (!selector) return [];
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  const out: Requirement[] = [];
  for (const raw of parts.map((p) => p.trim()).filter(Boolean)) {
    let m = /^(\S+?)\s+(in|notin)\s+\((.*)\)$/.exec(raw);
    if (m) {
      out.push({
        key: m[1]!,
        op: m[2] as "in" | "notin",
        values: m[3]!.split(",").map((v) => v.trim()),
      });
      continue;
    }
    m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(raw);
    if (m) {
      out.push({ key: m[1]!, op: m[2] === "!=" ? "!=" : "=", values: [m[3]!.trim()] });
      continue;
    }
    if (raw.startsWith("!")) out.push({ key: raw.slice(1).trim(), op: "!exists", values: [] });
    else out.push({ key: raw, op: "exists", values: [] });
  }
  return out;
}

/** Whether a value lookup satisfies every requirement. */
export function matches(reqs: Requirement[], get: (key: string) => string | undefined): boolean {
  return reqs.every((r) => {
    const v = get(r.key);
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
    }
  });
}

type ModelClass = new (data: unknown) => { validate(): void };
const modelCache = new Map<string, Promise<ModelClass | undefined>>();

/** The `kubernetes-models` class of a kind, or undefined when the package has none (custom resources). */
function modelOf(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  const key = `${apiVersion}/${kind}`;
  let p = modelCache.get(key);
  if (!p) {
    const spec = `kubernetes-models/${apiVersion}/${kind}`;
    p = import(spec).then(
      (m: Record<string, ModelClass>) => m[kind],
      () => undefined,
    );
    modelCache.set(key, p);
  }
  return p;
}

/** Thrown for an object the schema rejects: the double answers 422 Invalid with it. */
export class InvalidObject extends Error {}

export class ObjectStore {
  private readonly objects = new Map<string, KObject>();
  private readonly history: Recorded[] = [];
  private rv = 1;
  private uidSeq = 0;
  readonly stats: ValidationStats = { validated: {}, rejected: {}, unchecked: {} };
  private readonly listeners = new Set<(resource: string, e: WatchEvent, rv: number) => void>();

  get resourceVersion(): number {
    return this.rv;
  }

  static key(resource: string, ns: string, name: string): string {
    return `${resource}|${ns}|${name}`;
  }

  /** Checks an object against the Kubernetes schema; counts it; throws InvalidObject with the schema's words. */
  async validate(obj: KObject): Promise<void> {
    const kind = String(obj.kind ?? "");
    const model = await modelOf(String(obj.apiVersion ?? ""), kind);
    if (!model) {
      this.stats.unchecked[kind] = (this.stats.unchecked[kind] ?? 0) + 1;
      return;
    }
    try {
      // Server-set fields are not the client's to get wrong; they are checked without them.
      const { status: _status, ...rest } = obj;
      new model(rest).validate();
      this.stats.validated[kind] = (this.stats.validated[kind] ?? 0) + 1;
    } catch (e) {
      this.stats.rejected[kind] = (this.stats.rejected[kind] ?? 0) + 1;
      throw new InvalidObject((e as Error).message);
    }
  }

  get(resource: string, ns: string, name: string): KObject | undefined {
    return this.objects.get(ObjectStore.key(resource, ns, name));
  }

  list(
    resource: string,
    ns: string | undefined,
    selector?: Requirement[],
    fields?: Requirement[],
  ): KObject[] {
    const out: KObject[] = [];
    for (const [k, o] of this.objects) {
      const [r, n] = k.split("|");
      if (r !== resource || (ns !== undefined && n !== ns)) continue;
      if (selector && !matches(selector, (key) => o.metadata?.labels?.[key])) continue;
      if (fields && !matches(fields, (key) => fieldOf(o, key))) continue;
      out.push(o);
    }
    return out;
  }

  /** Every stored object, for tests asserting that nothing is left. */
  all(): { resource: string; namespace: string; name: string; object: KObject }[] {
    return [...this.objects].map(([k, object]) => {
      const [resource, namespace, name] = k.split("|") as [string, string, string];
      return { resource, namespace, name, object };
    });
  }

  /** Stores a new object: uid, resourceVersion and creationTimestamp set; an ADDED event. */
  insert(resource: string, ns: string, obj: KObject): KObject {
    const meta = (obj.metadata ??= {});
    meta.uid = `00000000-0000-4000-8000-${String(++this.uidSeq).padStart(12, "0")}`;
    meta.creationTimestamp = new Date().toISOString();
    if (ns) meta.namespace = ns;
    return this.put(resource, ns, obj, "ADDED");
  }

  /** Replaces a stored object: a new resourceVersion and a MODIFIED event. */
  update(resource: string, ns: string, obj: KObject): KObject {
    return this.put(resource, ns, obj, "MODIFIED");
  }

  remove(resource: string, ns: string, name: string): KObject | undefined {
    const key = ObjectStore.key(resource, ns, name);
    const obj = this.objects.get(key);
    if (!obj) return undefined;
    this.objects.delete(key);
    obj.metadata!.resourceVersion = String(++this.rv);
    this.record(resource, { type: "DELETED", object: obj });
    return obj;
  }

  private put(resource: string, ns: string, obj: KObject, type: "ADDED" | "MODIFIED"): KObject {
    obj.metadata!.resourceVersion = String(++this.rv);
    this.objects.set(ObjectStore.key(resource, ns, String(obj.metadata!.name)), obj);
    this.record(resource, { type, object: obj });
    return obj;
  }

  private record(resource: string, e: WatchEvent): void {
    // Events carry a copy: later changes of the stored object must not rewrite history.
    const event = { type: e.type, object: structuredClone(e.object) };
    this.history.push({ ...event, rv: this.rv, resource });
    if (this.history.length > 50_000) this.history.splice(0, 10_000);
    for (const l of this.listeners) l(resource, event, this.rv);
  }

  /** Events after `rv`, or undefined when they are no longer kept (the client gets 410 Gone). */
  since(resource: string, rv: number): Recorded[] | undefined {
    const first = this.history[0];
    if (first && rv < first.rv - 1) return undefined;
    return this.history.filter((h) => h.resource === resource && h.rv > rv);
  }

  subscribe(l: (resource: string, e: WatchEvent, rv: number) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

/** A field selector's field of an object (`metadata.name`, `metadata.namespace`, `status.phase`). */
export function fieldOf(o: KObject, path: string): string | undefined {
  let cur: unknown = o;
  for (const p of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur === undefined ? undefined : String(cur as string);
}
