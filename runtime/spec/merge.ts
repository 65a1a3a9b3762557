/** Strategic-merge-patch style helpers for Argo objects (what Kubernetes' `StrategicMergePatch` does for them). */

type Json = unknown;

/** Lists merged item by item on a key (Argo/Kubernetes `patchMergeKey`); every other list is replaced. */
const MERGE_KEYS: Record<string, string> = {
  templates: "name",
  parameters: "name",
  artifacts: "name",
  volumes: "name",
  env: "name",
  volumeMounts: "mountPath",
  ports: "containerPort",
  sidecars: "name",
  initContainers: "name",
  containers: "name",
  hostAliases: "ip",
  imagePullSecrets: "name",
};

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `patch` over `base`: maps merge recursively, keyed lists merge per key, everything else is replaced by `patch`. */
export function strategicMerge(base: Json, patch: Json, field?: string): Json {
  if (patch === undefined) return structuredClone(base);
  if (isPlainObject(base) && isPlainObject(patch)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(base)) out[k] = structuredClone(v);
    for (const [k, v] of Object.entries(patch))
      out[k] = k in base ? strategicMerge(base[k], v, k) : structuredClone(v);
    return out;
  }
  const key = field === undefined ? undefined : MERGE_KEYS[field];
  if (key !== undefined && Array.isArray(base) && Array.isArray(patch)) return mergeList(base, patch, key);
  return structuredClone(patch);
}

function mergeList(base: Json[], patch: Json[], key: string): Json[] {
  const keyOf = (v: Json): unknown => (isPlainObject(v) ? v[key] : undefined);
  const out: Json[] = base.map((b) => {
    const k = keyOf(b);
    const p = k === undefined ? undefined : patch.find((x) => keyOf(x) === k);
    return p === undefined ? structuredClone(b) : strategicMerge(b, p);
  });
  for (const p of patch) {
    const k = keyOf(p);
    if (k === undefined || !base.some((b) => keyOf(b) === k)) out.push(structuredClone(p));
  }
  return out;
}
