import type { Artifact, InvocationBase, NodePhase, NodeStatus } from "../spec/types.js";

/*
 * Small pure helpers of the operator: continueOn, artifact locations, durations in Argo's wording, node
 * field selectors.
 */

export function continues(holder: InvocationBase | undefined, phase: NodePhase): boolean {
  if (!holder?.continueOn) return false;
  if (phase === "Failed") return holder.continueOn.failed === true;
  if (phase === "Error") return holder.continueOn.error === true;
  return false;
}

const LOCATION_KEYS = [
  "s3",
  "gcs",
  "azure",
  "http",
  "git",
  "raw",
  "artifactory",
  "oss",
  "hdfs",
  "plugin",
  "local",
] as const;

export function hasLocation(a: Artifact): boolean {
  return LOCATION_KEYS.some((k) => a[k] !== undefined);
}

/** The field that makes each kind of location point somewhere (Argo's `HasLocation` checks it). */
const LOCATION_FIELD: Partial<Record<(typeof LOCATION_KEYS)[number], string>> = {
  http: "url",
  git: "repo",
  s3: "key",
  gcs: "key",
  oss: "key",
  azure: "blob",
  artifactory: "url",
  hdfs: "path",
};

/** Whether an artifact has a location that names something: `http: {url: ""}` does not. */
export function hasFilledLocation(a: Artifact): boolean {
  return LOCATION_KEYS.some((k) => {
    const loc = a[k] as Record<string, unknown> | undefined;
    if (loc === undefined) return false;
    const field = LOCATION_FIELD[k];
    return field === undefined || (loc !== null && loc[field] !== "");
  });
}

export function locationOf(a: Artifact): Partial<Artifact> {
  const out: Partial<Artifact> = {};
  for (const k of LOCATION_KEYS) if (a[k] !== undefined) (out as Record<string, unknown>)[k] = a[k];
  if (a.archive) out.archive = a.archive;
  return out;
}

export function stripLocation(a: Artifact): Artifact {
  const out = { ...a };
  for (const k of LOCATION_KEYS) delete out[k];
  return out;
}

export function durationSeconds(n: NodeStatus): number {
  const s = Date.parse(n.startedAt ?? "");
  const f = Date.parse(n.finishedAt ?? "");
  if (!Number.isFinite(s) || !Number.isFinite(f)) return 0;
  return (f - s) / 1000;
}

/** Go's default `time.Time` formatting (`2006-01-02 15:04:05 +0000 UTC`), as Argo prints deadlines. */
export function goTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, "");
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? "." + frac : ""} +0000 UTC`;
}

const TRANSIENT = [
  /exceeded quota/i,
  /ResourceExhausted/i,
  /connection reset by peer/i,
  /connection refused/i,
  /i\/o timeout/i,
  /TLS handshake timeout/i,
  /etcdserver: leader changed/i,
  /too many requests/i,
];

export function isTransient(message: string | undefined): boolean {
  if (!message) return false;
  const extra = process.env.TRANSIENT_ERROR_PATTERN;
  if (extra && new RegExp(extra).test(message)) return true;
  return TRANSIENT.some((r) => r.test(message));
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 12 * MONTH;

/** Argo's util/humanize TruncatedDuration: one unit, e.g. `10 seconds`, `1 minute`, `3 hours`. */
function truncatedDuration(ms: number): string {
  const steps: [number, (d: number) => string][] = [
    [SECOND, () => "0 seconds"],
    [2 * SECOND, () => "1 second"],
    [MINUTE, (d) => `${Math.floor(d / SECOND)} seconds`],
    [2 * MINUTE, () => "1 minute"],
    [HOUR, (d) => `${Math.floor(d / MINUTE)} minutes`],
    [2 * HOUR, () => "1 hour"],
    [DAY, (d) => `${Math.floor(d / HOUR)} hours`],
    [2 * DAY, () => "1 day"],
    [WEEK, (d) => `${Math.floor(d / DAY)} days`],
    [2 * WEEK, () => "1 week"],
    [MONTH, (d) => `${Math.floor(d / WEEK)} weeks`],
    [2 * MONTH, () => "1 month"],
    [YEAR, (d) => `${Math.floor(d / MONTH)} months`],
    [18 * MONTH, () => "1 year"],
    [2 * YEAR, () => "2 years"],
  ];
  for (const [limit, fmt] of steps) if (ms < limit) return fmt(ms);
  return `${Math.floor(ms / YEAR)} years`;
}

/** Argo's util/humanize Duration (up to two units), used in `Backoff for <duration>`. */
export function humanizeDuration(ms: number): string {
  const d = Math.max(0, ms);
  if (d < MINUTE) return truncatedDuration(d);
  if (d < HOUR) return `${truncatedDuration(d)} ${Math.floor((d % MINUTE) / SECOND)} seconds`;
  if (d < DAY) return `${truncatedDuration(d)} ${Math.floor((d % HOUR) / MINUTE)} minutes`;
  return `${truncatedDuration(d)} ${Math.floor((d % DAY) / HOUR)} hours`;
}

/** Argo's node field selector: `name=x`, `displayName=x`, `templateName=x`, `phase=x`, `id=x`, comma-joined. */
export function matchesSelector(node: NodeStatus, selector: string): boolean {
  return selector
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .every((clause) => {
      const neg = clause.includes("!=");
      const [field, value] = neg ? clause.split("!=") : clause.split("=");
      const f = (field ?? "").trim();
      let actual: string | undefined;
      const m = /^inputs\.parameters\.(.+)\.value$/.exec(f);
      if (m) actual = node.inputs?.parameters?.find((p) => p.name === m[1])?.value;
      else actual = (node as unknown as Record<string, unknown>)[f] as string | undefined;
      const eq = actual === (value ?? "").trim();
      return neg ? !eq : eq;
    });
}
