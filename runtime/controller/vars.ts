import type { Artifact } from "../spec/types.js";
import type { TemplateScope } from "../spec/compiled.js";
/**
 * Variables for substitution, layered so a step's scope can add a few keys on top of the workflow globals
 * and its template's sibling scope without copying them. It is a `Map` so the expression engine treats it
 * as one; only the overridden read methods are meaningful.
 */
export class LayeredVars extends Map<string, string | null> {
  private readonly own = new Map<string, string | null>();
  private readonly parent: ReadonlyMap<string, string | null> | undefined;

  constructor(parent?: ReadonlyMap<string, string | null>, entries?: Iterable<[string, string | null]>) {
    super();
    this.parent = parent;
    if (entries) for (const [k, v] of entries) this.own.set(k, v);
  }

  override get(key: string): string | null | undefined {
    const v = this.own.get(key);
    if (v !== undefined || this.own.has(key)) return v;
    return this.parent?.get(key);
  }

  override has(key: string): boolean {
    return this.own.has(key) || (this.parent?.has(key) ?? false);
  }

  override set(key: string, value: string | null): this {
    this.own.set(key, value);
    return this;
  }

  override delete(key: string): boolean {
    return this.own.delete(key);
  }

  override get size(): number {
    return this.materialize().size;
  }

  override forEach(
    fn: (value: string | null, key: string, map: Map<string, string | null>) => void,
    thisArg?: unknown,
  ): void {
    for (const [k, v] of this.materialize()) fn.call(thisArg, v, k, this);
  }

  override entries(): MapIterator<[string, string | null]> {
    return this.materialize().entries();
  }

  override keys(): MapIterator<string> {
    return this.materialize().keys();
  }

  override values(): MapIterator<string | null> {
    return this.materialize().values();
  }

  override [Symbol.iterator](): MapIterator<[string, string | null]> {
    return this.materialize().entries();
  }

  /** A flat copy (parents first, own keys winning). */
  materialize(): Map<string, string | null> {
    const out = new Map<string, string | null>();
    if (this.parent) for (const [k, v] of this.parent) out.set(k, v);
    for (const [k, v] of this.own) out.set(k, v);
    return out;
  }

  toRecord(): Record<string, string | null> {
    return Object.fromEntries(this.materialize());
  }
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** strftime conversion characters Argo exposes as `workflow.creationTimestamp.<c>` (UTC). */
export function strftimeParts(ms: number): Record<string, string> {
  const d = new Date(ms);
  const Y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  const H = d.getUTCHours();
  const M = d.getUTCMinutes();
  const S = d.getUTCSeconds();
  const wd = d.getUTCDay();
  const startOfYear = Date.UTC(Y, 0, 1);
  const yday = Math.floor((Date.UTC(Y, m, day) - startOfYear) / 86400000) + 1;
  const I = H % 12 === 0 ? 12 : H % 12;
  const parts: Record<string, string> = {
    Y: String(Y),
    C: pad(Math.floor(Y / 100)),
    y: pad(Y % 100),
    m: pad(m + 1),
    B: MONTHS[m] ?? "",
    b: (MONTHS[m] ?? "").slice(0, 3),
    h: (MONTHS[m] ?? "").slice(0, 3),
    d: pad(day),
    e: String(day).padStart(2, " "),
    j: pad(yday, 3),
    H: pad(H),
    I: pad(I),
    l: String(I).padStart(2, " "),
    M: pad(M),
    S: pad(S),
    p: H < 12 ? "AM" : "PM",
    A: DAYS[wd] ?? "",
    a: (DAYS[wd] ?? "").slice(0, 3),
    u: String(wd === 0 ? 7 : wd),
    w: String(wd),
    n: "\n",
    t: "\t",
    Z: "UTC",
    z: "+0000",
  };
  parts.D = `${parts.m}/${parts.d}/${parts.y}`;
  parts.F = `${parts.Y}-${parts.m}-${parts.d}`;
  parts.T = `${parts.H}:${parts.M}:${parts.S}`;
  parts.R = `${parts.H}:${parts.M}`;
  parts.r = `${parts.I}:${parts.M}:${parts.S} ${parts.p}`;
  parts.c = `${parts.a} ${parts.b} ${parts.e} ${parts.T} ${parts.Y}`;
  parts.x = parts.D;
  parts.X = parts.T;
  parts.s = String(Math.floor(ms / 1000));
  return parts;
}

/** RFC3339 with second precision, as Kubernetes writes times. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** Sibling results of a steps/DAG invocation (`steps.X.*` / `tasks.X.*`) plus the artifacts they produced. */
export class SiblingScope {
  readonly vars: LayeredVars;
  readonly artifacts = new Map<string, Artifact | null>();

  constructor(
    readonly prefix: "steps" | "tasks",
    parent: ReadonlyMap<string, string | null>,
    readonly templateScope: TemplateScope,
  ) {
    this.vars = new LayeredVars(parent);
  }
}
