import { SkiffError } from "../../runtime/errors/index.js";
import type { Store } from "../../runtime/interfaces/store.js";
import type { Workflow } from "../../runtime/spec/types.js";
import { listRuns } from "../run/control.js";
import { ApiError, GRPC } from "./http.js";
import { parseLabelSelector } from "../run/query.js";

/** Labels Argo's controller keeps on every workflow; Skiff derives them from the status when answering. */
export const PHASE_LABEL = "workflows.argoproj.io/phase";
export const COMPLETED_LABEL = "workflows.argoproj.io/completed";
export const ARCHIVING_LABEL = "workflows.argoproj.io/workflow-archiving-status";

const COMPLETED = new Set(["Succeeded", "Failed", "Error"]);

/** The workflow as Argo's API shows it: the phase and completed labels its controller would have set. */
export function withArgoLabels(wf: Workflow): Workflow {
  const phase = wf.status?.phase;
  if (!phase) return wf;
  return {
    ...wf,
    metadata: {
      ...wf.metadata,
      labels: {
        ...wf.metadata.labels,
        [PHASE_LABEL]: phase,
        ...(COMPLETED.has(phase) ? { [COMPLETED_LABEL]: "true" } : {}),
      },
    },
  };
}

type FieldTest = (wf: Workflow) => boolean;

/** `listOptions.*` and the other filters of Argo's ListWorkflows and WatchWorkflows. */
export interface ListFilter {
  matches(wf: Workflow): boolean;
  offset: number;
  limit: number;
  showRemainingItemCount: boolean;
  /** The `metadata.name=X` of the field selector, when it names one workflow. */
  name?: string;
}

const bad = (message: string) => new SkiffError("SKF-SRV-004", message);

/** Argo's field selector over workflows: `metadata.name`, `metadata.namespace`, `spec.startedAt`, `ext.*`. */
function parseFieldSelector(
  selector: string,
  namespace: string,
  nameFilter: string,
): { tests: FieldTest[]; name?: string; showRemainingItemCount: boolean } {
  const tests: FieldTest[] = [];
  let name: string | undefined;
  let showRemainingItemCount = false;
  for (const raw of selector.split(",").map((s) => s.trim())) {
    if (raw === "") continue;
    const m = /^([\w.]+)\s*(==|!=|=|<|>)\s*(.*)$/.exec(raw);
    if (!m) throw bad(`unsupported requirement ${raw}`);
    const [, key, op, value = ""] = m;
    const equal = op === "=" || op === "==";
    if (key === "metadata.name" && (equal || op === "!=")) {
      const hit = (n: string) =>
        nameFilter === "Contains"
          ? n.includes(value)
          : nameFilter === "Prefix"
            ? n.startsWith(value)
            : n === value;
      if (equal && nameFilter !== "Contains" && nameFilter !== "Prefix") name = value;
      tests.push((wf) => hit(wf.metadata.name ?? "") === equal);
    } else if (key === "metadata.namespace" && (equal || op === "!=")) {
      if (equal && namespace !== "" && value !== namespace)
        throw bad(`'metadata.namespace=${value}' does not match the namespace of the path (${namespace})`);
      tests.push((wf) => (wf.metadata.namespace === value) === equal);
    } else if (key === "spec.startedAt" && (op === "<" || op === ">")) {
      const at = Date.parse(value);
      if (Number.isNaN(at)) throw bad(`spec.startedAt needs an RFC 3339 time (got ${value})`);
      tests.push((wf) => {
        const started = Date.parse(wf.status?.startedAt ?? "");
        return !Number.isNaN(started) && (op === "<" ? started < at : started > at);
      });
    } else if (key === "ext.showRemainingItemCount" && equal) {
      showRemainingItemCount = value === "true";
    } else throw bad(`unsupported requirement ${raw}`);
  }
  return { tests, ...(name !== undefined ? { name } : {}), showRemainingItemCount };
}

/** Builds the filter of a list or watch request's query (`listOptions.*`, `nameFilter`, `createdAfter`...). */
export function parseListFilter(query: URLSearchParams, namespace: string): ListFilter {
  const labels = query.get("listOptions.labelSelector");
  let labelTest: ((l: Record<string, string>) => boolean) | undefined;
  try {
    labelTest = labels ? parseLabelSelector(labels) : undefined;
  } catch (e) {
    throw bad((e as Error).message);
  }
  const fields = parseFieldSelector(
    query.get("listOptions.fieldSelector") ?? "",
    namespace,
    query.get("nameFilter") ?? "Exact",
  );
  const time = (key: string): number | undefined => {
    const v = query.get(key);
    if (!v) return undefined;
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw bad(`${key} needs an RFC 3339 time (got ${v})`);
    return t;
  };
  const createdAfter = time("createdAfter");
  const finishedBefore = time("finishedBefore");
  const cont = query.get("listOptions.continue") ?? "";
  const offset = cont === "" ? 0 : Number(cont);
  if (!Number.isInteger(offset) || offset < 0) throw bad("listOptions.continue must be int");
  const limitText = query.get("listOptions.limit") ?? "";
  const limit = limitText === "" ? 0 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0) throw bad("listOptions.limit must be an integer >= 0");
  return {
    offset,
    limit,
    showRemainingItemCount: fields.showRemainingItemCount,
    ...(fields.name !== undefined ? { name: fields.name } : {}),
    matches(wf) {
      if (namespace !== "" && wf.metadata.namespace !== namespace) return false;
      if (labelTest && !labelTest(wf.metadata.labels ?? {})) return false;
      if (!fields.tests.every((t) => t(wf))) return false;
      if (createdAfter !== undefined && !(Date.parse(wf.metadata.creationTimestamp ?? "") > createdAfter))
        return false;
      if (finishedBefore !== undefined && !(Date.parse(wf.status?.finishedAt ?? "") < finishedBefore))
        return false;
      return true;
    },
  };
}

/** Argo's order of a list page: unfinished first (newest created first), then newest finished first. */
export function compareWorkflows(a: Workflow, b: Workflow): number {
  const fa = a.status?.finishedAt ?? "";
  const fb = b.status?.finishedAt ?? "";
  if (!fa || !fb) {
    if (fa !== fb) return fa ? 1 : -1;
    return (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? "");
  }
  return fb.localeCompare(fa);
}

/**
 * Argo's `fields` parameter: a comma list of dotted paths, `-` in front to leave them out. In include mode a
 * key stays when its path is listed or is a prefix of a listed path; arrays are transparent.
 */
export function cleanFields(value: unknown, fields: string | null): unknown {
  if (!fields) return value;
  const paths = fields
    .split(",")
    .map((f) => f.trim())
    .filter(Boolean);
  const exclude = paths.length > 0 && paths.every((p) => p.startsWith("-"));
  const list = paths.map((p) => (p.startsWith("-") ? p.slice(1) : p));
  const walk = (v: unknown, prefix: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, prefix));
    if (typeof v !== "object" || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(v)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (exclude) {
        if (list.includes(path)) continue;
        out[k] = list.some((p) => p.startsWith(`${path}.`)) ? walk(child, path) : child;
      } else if (list.includes(path)) out[k] = child;
      else if (list.some((p) => p.startsWith(`${path}.`))) out[k] = walk(child, path);
    }
    return out;
  };
  return walk(value, "");
}

/** Resolves Argo's `@latest` to the newest workflow of the namespace. */
export async function resolveName(store: Store, namespace: string, name: string): Promise<string> {
  if (name !== "@latest") return name;
  const all = await listRuns(store, namespace);
  const newest = all.sort((a, b) =>
    (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""),
  )[0];
  if (!newest) throw new ApiError(GRPC.NotFound, "no workflows found");
  return newest.metadata.name ?? "";
}
