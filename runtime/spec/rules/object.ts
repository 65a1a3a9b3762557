/**
 * Checks of the object as a whole: `metadata.name`/`generateName` and a CronWorkflow's schedule and
 * policies.
 */
import { SkiffError } from "../../errors/index.js";
import { SPEC_CODES } from "../codes.js";
import { formatPath } from "../positions.js";
import { parseDuration } from "../units.js";
import { arr, dict, str, type RuleContext, type Dict, type Path } from "./context.js";

const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function checkObjectNames(ctx: RuleContext, raw: Dict): void {
  const meta = dict(raw.metadata) ?? {};
  const kind = String(raw.kind);
  const name = str(meta.name);
  const limit = kind === "CronWorkflow" ? 52 : 63;
  const label =
    kind === "CronWorkflow"
      ? "cron workflow"
      : kind === "WorkflowTemplate"
        ? "workflow template"
        : kind === "ClusterWorkflowTemplate"
          ? "cluster workflow template"
          : "workflow";
  const src = ctx.prepared.source;
  const push = (code: string, message: string, path: Path): void => {
    ctx.problems.push(
      new SkiffError(code, message, {
        position: src.positions.get(path) ?? src.positions.get([]),
        path: formatPath(path),
      }),
    );
  };
  if (name !== undefined) {
    if (name.length > limit)
      push(
        SPEC_CODES["SKF-SPEC-022"],
        `${label} name "${name}" must not be more than ${limit} characters long (currently ${name.length})`,
        ["metadata", "name"],
      );
    if (!K8S_NAME.test(name))
      push(
        SPEC_CODES["SKF-SPEC-021"],
        `${label} name "${name}" must consist of lower case alphanumeric characters, '-' or '.'`,
        ["metadata", "name"],
      );
  } else if (str(meta.generateName) === undefined) {
    // The API server names an object created with generateName only (Hera emits WorkflowTemplates so), so
    // Argo requires one of the two for every kind; a Workflow with neither is named by its runner.
    if (kind !== "Workflow")
      push(SPEC_CODES["SKF-SPEC-020"], `${label} has no metadata.name or metadata.generateName`, [
        "metadata",
      ]);
  }
  const gen = str(meta.generateName);
  if (gen !== undefined && name === undefined && !/^[a-z0-9]([-a-z0-9.]*)?$/.test(gen)) {
    push(
      SPEC_CODES["SKF-SPEC-021"],
      `generateName "${gen}" must consist of lower case alphanumeric characters, '-' or '.'`,
      ["metadata", "generateName"],
    );
  }
  if (kind === "CronWorkflow") {
    const spec = dict(raw.spec) ?? {};
    const schedule = str(spec.schedule);
    const schedules = arr(spec.schedules);
    if (schedule !== undefined && schedule !== "" && schedules.length > 0)
      push(
        SPEC_CODES["SKF-SPEC-072"],
        "cron workflow cant be configured with both Spec.Schedule and Spec.Schedules",
        ["spec", "schedules"],
      );
    if ((schedule === undefined || schedule === "") && schedules.length === 0)
      push(SPEC_CODES["SKF-SPEC-072"], "cron workflow needs spec.schedule or spec.schedules", ["spec"]);
    const all: [unknown, Path][] = schedule !== undefined ? [[schedule, ["spec", "schedule"]]] : [];
    schedules.forEach((s, i) => all.push([s, ["spec", "schedules", i]]));
    for (const [s, p] of all) {
      if (typeof s === "string" && s !== "" && !isCronSchedule(s))
        push(SPEC_CODES["SKF-SPEC-072"], `cron schedule ${s} is malformed`, p);
    }
    const policy = spec.concurrencyPolicy;
    if (typeof policy === "string" && !["Allow", "Forbid", "Replace", ""].includes(policy))
      push(SPEC_CODES["SKF-SPEC-013"], `'${policy}' is not a valid concurrencyPolicy`, [
        "spec",
        "concurrencyPolicy",
      ]);
    if (typeof spec.startingDeadlineSeconds === "number" && spec.startingDeadlineSeconds < 0)
      push(SPEC_CODES["SKF-SPEC-069"], "startingDeadlineSeconds must be positive", [
        "spec",
        "startingDeadlineSeconds",
      ]);
  }
}

/** Standard 5-field cron expressions and robfig/cron descriptors (`@daily`, `@every 1h`). */
function isCronSchedule(s: string): boolean {
  const text = s.trim().replace(/^(CRON_TZ|TZ)=\S+\s+/, "");
  if (text.startsWith("@")) {
    if (["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"].includes(text))
      return true;
    const m = /^@every\s+(\S+)$/.exec(text);
    if (!m) return false;
    try {
      parseDuration(m[1] ?? "");
      return true;
    } catch {
      return false;
    }
  }
  const fields = text.split(/\s+/);
  return fields.length === 5 && fields.every((f) => /^[0-9A-Za-z*/,?-]+$/.test(f));
}
