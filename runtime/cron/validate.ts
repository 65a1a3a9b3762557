import { SkiffError } from "../errors/index.js";
import type { LoadedManifest } from "../spec/load.js";
import type { CronWorkflow } from "../spec/types.js";
import { CRON_CODES } from "./codes.js";
import { isKnownTimeZone, localTimeZone, parseSchedule, schedulesOf } from "./schedule.js";

/** Argo's limit: the run's name adds `-<unix time>` (11 characters) within Kubernetes' 63. */
export const MAX_CRON_NAME = 52;

/**
 * Argo's CronWorkflow checks beyond the embedded workflow's (which `validate` of runtime/spec covers): name
 * length, schedules parseable by the standard cron parser, a known timezone, `concurrencyPolicy`, and the
 * non-negative numbers. Every problem is returned, each at its field's file/line.
 */
export function validateCronWorkflow(manifest: LoadedManifest): SkiffError[] {
  const cron = manifest.object as CronWorkflow;
  const spec = (cron.spec ?? {}) as Partial<CronWorkflow["spec"]>;
  const at = (...path: (string | number)[]) =>
    manifest.positions.get(path) ?? manifest.positions.get([]) ?? { file: manifest.file };
  const problems: SkiffError[] = [];
  const name = cron.metadata?.name ?? "";
  if (name.length > MAX_CRON_NAME)
    problems.push(
      new SkiffError(
        CRON_CODES["SKF-CRON-003"],
        `metadata.name ${JSON.stringify(name)} is longer than ${MAX_CRON_NAME} characters`,
        { position: at("metadata", "name"), path: "metadata.name" },
      ),
    );
  const schedules = schedulesOf(cron);
  if (schedules.length === 0)
    problems.push(
      new SkiffError(CRON_CODES["SKF-CRON-001"], "spec.schedules is required and may not be empty", {
        position: at("spec"),
        path: "spec.schedules",
      }),
    );
  const zone = spec.timezone || localTimeZone();
  if (spec.timezone && !isKnownTimeZone(spec.timezone))
    problems.push(
      new SkiffError(CRON_CODES["SKF-CRON-002"], `unknown time zone ${JSON.stringify(spec.timezone)}`, {
        position: at("spec", "timezone"),
        path: "spec.timezone",
      }),
    );
  else
    schedules.forEach((s) => {
      const i = (spec.schedules ?? []).indexOf(s);
      const path = i >= 0 ? ["spec", "schedules", i] : ["spec", "schedule"];
      try {
        parseSchedule(s, zone, 0, at(...path));
      } catch (e) {
        if (!(e instanceof SkiffError)) throw e;
        problems.push(new SkiffError(e.code, e.message, { position: e.position, path: path.join(".") }));
      }
    });
  const policy = spec.concurrencyPolicy as string | undefined;
  if (policy !== undefined && !["", "Allow", "Forbid", "Replace"].includes(policy))
    problems.push(
      new SkiffError(
        CRON_CODES["SKF-CRON-003"],
        `concurrencyPolicy ${JSON.stringify(policy)} is not one of Allow, Forbid, Replace`,
        { position: at("spec", "concurrencyPolicy"), path: "spec.concurrencyPolicy" },
      ),
    );
  for (const field of [
    "startingDeadlineSeconds",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
  ] as const) {
    const v = spec[field] as unknown;
    if (v === undefined || v === null) continue;
    // Argo accepts a negative history limit (the default then applies); a deadline must be at least 0.
    if (typeof v !== "number" || !Number.isInteger(v) || (field === "startingDeadlineSeconds" && v < 0))
      problems.push(
        new SkiffError(
          CRON_CODES["SKF-CRON-003"],
          `${field} must be a whole number of at least 0, not ${JSON.stringify(v)}`,
          {
            position: at("spec", field),
            path: `spec.${field}`,
          },
        ),
      );
  }
  return problems;
}
