import { defineErrorCodes, SkiffError } from "../../runtime/errors/index.js";
import type { Workflow } from "../../runtime/spec/types.js";

export const QUERY_CODES = defineErrorCodes({
  "SKF-RUN-010": {
    title: "Bad workflow filter",
    hint: "Labels are selected as -l key=value[,key!=value,key]; ages are durations such as 30s, 10m, 3h, 1d or 1h30m.",
  },
});

/** The filters `list`, `delete` and `archive list` share (as `argo list` names them). */
export interface RunFilter {
  /** Phases; a workflow that has none yet counts as Pending. */
  phases?: string[];
  /** `key=value`, `key!=value` or `key`, comma-separated. */
  selector?: string;
  prefix?: string;
  completed?: boolean;
  running?: boolean;
  /** Only completed workflows finished longer ago than this many ms. */
  olderThanMs?: number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `1h`, `10m`, `1d`, `1h30m`, `90s` to milliseconds; `SKF-RUN-010` otherwise. */
export function parseAge(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    end = re.lastIndex;
  }
  if (text === "" || end !== text.length)
    throw new SkiffError("SKF-RUN-010", `"${text}" is not a duration (e.g. 30s, 10m, 3h, 1d)`);
  return total;
}

type LabelTest = (labels: Record<string, string>) => boolean;

/** Compiles a Kubernetes label selector: equality (`k=v`, `k!=v`), existence (`k`, `!k`) and sets (`k in (a,b)`). */
export function parseLabelSelector(selector: string): LabelTest {
  const tests: LabelTest[] = [];
  // Commas inside `in (...)` separate values, not requirements.
  for (const raw of selector.split(/,(?![^(]*\))/).map((s) => s.trim())) {
    if (raw === "") continue;
    const set = /^([A-Za-z0-9._/-]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(raw);
    if (set) {
      const [, key, op, list] = set;
      const values = new Set(list!.split(",").map((v) => v.trim()));
      tests.push(
        op === "in" ? (l) => values.has(l[key!] ?? "\u0000") : (l) => !values.has(l[key!] ?? "\u0000"),
      );
      continue;
    }
    const m = /^(!?)([A-Za-z0-9._/-]+)\s*(?:(!=|==|=)\s*(.*))?$/.exec(raw);
    if (!m || (m[1] && m[3]))
      throw new SkiffError("SKF-RUN-010", `"${raw}" is not a label requirement (key=value, key!=value, key)`);
    const [, not, key, op, value] = m;
    if (!op) tests.push(not ? (l) => !(key! in l) : (l) => key! in l);
    else if (op === "!=") tests.push((l) => l[key!] !== value);
    else tests.push((l) => l[key!] === value);
  }
  return (labels) => tests.every((t) => t(labels));
}

const COMPLETED = new Set(["Succeeded", "Failed", "Error"]);

/** The workflows a filter keeps, in the order given. */
export function filterRuns(wfs: Workflow[], filter: RunFilter, now = Date.now()): Workflow[] {
  const labels = filter.selector ? parseLabelSelector(filter.selector) : undefined;
  return wfs.filter((w) => {
    const phase = w.status?.phase || "Pending";
    const done = COMPLETED.has(phase);
    if (filter.phases && filter.phases.length > 0 && !filter.phases.includes(phase)) return false;
    if (filter.prefix && !(w.metadata.name ?? "").startsWith(filter.prefix)) return false;
    if (filter.completed && !done) return false;
    if (filter.running && phase !== "Running") return false;
    if (labels && !labels(w.metadata.labels ?? {})) return false;
    if (filter.olderThanMs !== undefined) {
      const finished = Date.parse(w.status?.finishedAt ?? "");
      if (!done || Number.isNaN(finished) || now - finished < filter.olderThanMs) return false;
    }
    return true;
  });
}
