import { Cron } from "croner";
import { SkiffError } from "../errors/index.js";
import type { SourcePosition } from "../errors/index.js";
import { parseDuration } from "../spec/units.js";
import type { CronWorkflow } from "../spec/types.js";
import { CRON_CODES } from "./codes.js";

/** One schedule of a CronWorkflow, parsed: when it fires next. */
export interface CronSchedule {
  /** As written, with the `CRON_TZ=` prefix the CronWorkflow's timezone adds. */
  readonly text: string;
  /** The first firing strictly after `after` (ms since the epoch); undefined when there is none. */
  next(after: number): number | undefined;
}

/** robfig/cron's descriptors (Argo's parser), as the 5-field patterns they stand for. */
const DESCRIPTORS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** Whether the runtime knows a time zone name. */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zone Skiff runs in: Argo's controller applies its local zone to CronWorkflows without `timezone`. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/**
 * Parses one schedule as robfig/cron's standard parser reads it (Argo's): 5 fields, `?` as `*`, descriptors,
 * `@every <duration>`, an optional `CRON_TZ=`/`TZ=` prefix (which wins over `timezone`). `anchor` is when an
 * `@every` schedule starts counting. Throws `SKF-CRON-001`/`SKF-CRON-002`, at `position` when given.
 */
export function parseSchedule(
  text: string,
  timezone: string,
  anchor = 0,
  position?: SourcePosition,
): CronSchedule {
  const fail = (code: "SKF-CRON-001" | "SKF-CRON-002", message: string) =>
    new SkiffError(CRON_CODES[code], message, position ? { position } : {});
  let rest = text.trim();
  let zone = timezone;
  const prefix = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(rest);
  if (prefix) {
    zone = prefix[1]!;
    rest = rest.slice(prefix[0].length);
  }
  if (!isKnownTimeZone(zone)) throw fail("SKF-CRON-002", `unknown time zone ${JSON.stringify(zone)}`);
  const shown = `CRON_TZ=${zone} ${rest}`;
  if (rest.startsWith("@every ")) {
    let every: number;
    try {
      every = parseDuration(rest.slice("@every ".length).trim());
    } catch {
      throw fail("SKF-CRON-001", `invalid schedule ${JSON.stringify(text)}: bad @every duration`);
    }
    // robfig rounds @every up to whole seconds, at least one.
    every = Math.max(1000, Math.ceil(every / 1000) * 1000);
    return {
      text: shown,
      next: (after) => anchor + (Math.floor((after - anchor) / every) + 1) * every,
    };
  }
  const pattern = DESCRIPTORS[rest] ?? rest;
  const fields = pattern.split(/\s+/);
  if (pattern.startsWith("@") || fields.length !== 5)
    throw fail(
      "SKF-CRON-001",
      `invalid schedule ${JSON.stringify(text)}: expected exactly 5 fields, found ${pattern.startsWith("@") ? "an unknown descriptor" : fields.length}`,
    );
  let cron: Cron;
  try {
    // robfig reads `?` as `*`; croner would put the current time there.
    cron = new Cron(fields.map((f) => f.replaceAll("?", "*")).join(" "), { timezone: zone, paused: true });
  } catch (e) {
    throw fail("SKF-CRON-001", `invalid schedule ${JSON.stringify(text)}: ${(e as Error).message}`);
  }
  return {
    text: shown,
    next: (after) => cron.nextRun(new Date(after))?.getTime(),
  };
}

/** The schedules of a CronWorkflow: `schedules`, and the legacy `schedule` when set. */
export function schedulesOf(cron: CronWorkflow): string[] {
  const spec = cron.spec ?? ({} as CronWorkflow["spec"]);
  const out = Array.isArray(spec.schedules) ? spec.schedules.filter((s) => typeof s === "string") : [];
  if (typeof spec.schedule === "string" && spec.schedule !== "") out.unshift(spec.schedule);
  return out;
}

/**
 * Every schedule of a CronWorkflow parsed, in its `timezone` (else `defaultZone`). `@every` counts from the
 * CronWorkflow's creation. Throws the first problem.
 */
export function parseCronSchedules(cron: CronWorkflow, defaultZone = localTimeZone()): CronSchedule[] {
  const zone = cron.spec?.timezone || defaultZone;
  const created = Date.parse(cron.metadata?.creationTimestamp ?? "");
  return schedulesOf(cron).map((s) => parseSchedule(s, zone, Number.isNaN(created) ? 0 : created));
}

/** Argo's `last-used-schedule` annotation value: the TZ-prefixed schedules, comma-joined. */
export function scheduleKey(cron: CronWorkflow): string {
  const zone = cron.spec?.timezone;
  return schedulesOf(cron)
    .map((s) => (zone && !/^(?:CRON_TZ|TZ)=/.test(s) ? `CRON_TZ=${zone} ${s}` : s))
    .join(",");
}

/** The first firing of any schedule strictly after `after`. */
export function nextFiring(schedules: readonly CronSchedule[], after: number): number | undefined {
  let best: number | undefined;
  for (const s of schedules) {
    const t = s.next(after);
    if (t !== undefined && (best === undefined || t < best)) best = t;
  }
  return best;
}

/** The latest firing of any schedule in `(after, upTo]`, if any. */
export function latestFiring(
  schedules: readonly CronSchedule[],
  after: number,
  upTo: number,
): number | undefined {
  let latest: number | undefined;
  for (const s of schedules) {
    let t = s.next(after);
    // Bounded: a minutely schedule over a year is half a million steps; callers pass short windows.
    for (let i = 0; t !== undefined && t <= upTo && i < 1_000_000; i++) {
      if (latest === undefined || t > latest) latest = t;
      t = s.next(t);
    }
  }
  return latest;
}
