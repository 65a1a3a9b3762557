/**
 * Template fields whose validity depends on the template type, and the shapes of durations,
 * `retryStrategy`, `memoize` and `metrics`.
 */
import { SPEC_CODES } from "../codes.js";
import type { TemplateScope } from "../compiled.js";
import { formatPath } from "../positions.js";
import type { TemplateType } from "../types.js";
import { parseDuration } from "../units.js";
import { arr, dict, FIELD_NAME, has, hasVar, type RuleContext, type Dict, type Path } from "./context.js";

const RETRY_POLICIES = ["Always", "OnFailure", "OnError", "OnTransientError", ""];

/** Fields whose validity depends on the template type, durations and retry/memoize shapes. */
export function checkTemplateOnlyFields(
  ctx: RuleContext,
  t: Dict,
  path: Path,
  scope: TemplateScope,
  isDefaults: boolean,
  type?: TemplateType,
): void {
  const name = String(t.name ?? "");
  const nonLeaf = type === "steps" || type === "dag";
  if (!isDefaults && type !== undefined) {
    if (!nonLeaf && has(t.parallelism)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-062"],
        `templates.${name}.parallelism is only valid for steps and dag templates`,
        [...path, "parallelism"],
        scope,
      );
    }
    if (!nonLeaf && has(t.failFast)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-062"],
        `templates.${name}.failFast is only valid for steps and dag templates`,
        [...path, "failFast"],
        scope,
      );
    }
    if (nonLeaf && has(t.timeout) && t.timeout !== "") {
      ctx.report(
        SPEC_CODES["SKF-SPEC-062"],
        `${type} template doesn't support timeout field.`,
        [...path, "timeout"],
        scope,
      );
    }
    if (nonLeaf && has(t.activeDeadlineSeconds)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-062"],
        `templates.${name}.activeDeadlineSeconds is only valid for leaf templates`,
        [...path, "activeDeadlineSeconds"],
        scope,
      );
    }
  }
  if (typeof t.timeout === "string" && t.timeout !== "" && !hasVar(t.timeout)) {
    if (/^[-+]?\d+$/.test(t.timeout.trim())) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-063"],
        `${name} has invalid duration format in timeout.`,
        [...path, "timeout"],
        scope,
      );
    } else checkDuration(ctx, t.timeout, [...path, "timeout"], scope, false);
  }
  checkDuration(ctx, t.pendingTimeout, [...path, "pendingTimeout"], scope, false);
  const suspend = dict(t.suspend);
  if (suspend) checkDuration(ctx, suspend.duration, [...path, "suspend", "duration"], scope, true);
  checkRetryStrategy(ctx, t.retryStrategy, [...path, "retryStrategy"], scope);
  const memoize = dict(t.memoize);
  if (memoize) {
    const key = memoize.key;
    if (typeof key === "string" && !hasVar(key) && !FIELD_NAME.test(key)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-065"],
        `memoize key '${key}' is invalid: it must match ${FIELD_NAME.source}`,
        [...path, "memoize", "key"],
        scope,
      );
    }
    if (typeof key === "string" && key === "")
      ctx.report(
        SPEC_CODES["SKF-SPEC-065"],
        "memoize.key may not be empty",
        [...path, "memoize", "key"],
        scope,
      );
    const cm = dict(dict(memoize.cache)?.configMap);
    if (dict(memoize.cache) && (!cm || typeof cm.name !== "string" || cm.name === "")) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-065"],
        "memoize.cache.configMap.name is required",
        [...path, "memoize", "cache"],
        scope,
      );
    }
    checkDuration(ctx, memoize.maxAge, [...path, "memoize", "maxAge"], scope, false);
  }
  const ads = t.activeDeadlineSeconds;
  if (!nonLeaf && has(ads) && !hasVar(ads)) {
    const n =
      typeof ads === "number"
        ? ads
        : typeof ads === "string" && /^-?\d+$/.test(ads)
          ? Number(ads)
          : Number.NaN;
    if (!Number.isInteger(n) || n < 0) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-069"],
        `templates.${name}.activeDeadlineSeconds must be a positive integer > 0 or an argo variable`,
        [...path, "activeDeadlineSeconds"],
        scope,
      );
    }
  }
  const metrics = dict(t.metrics);
  arr(metrics?.prometheus).forEach((m, i) => {
    const metric = dict(m) ?? {};
    const mp: Path = [...path, "metrics", "prometheus", i];
    if (typeof metric.name === "string" && !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(metric.name)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-021"],
        `templates.${name} metric name '${metric.name}' is invalid. Metric names must contain alphanumeric characters or '_'`,
        [...mp, "name"],
        scope,
      );
    }
    if (typeof metric.help !== "string" || metric.help === "") {
      ctx.report(
        SPEC_CODES["SKF-SPEC-011"],
        `templates.${name} metric '${String(metric.name)}' must contain a help string under 'help: ' field`,
        mp,
        scope,
      );
    }
  });
}

export function checkRetryStrategy(ctx: RuleContext, value: unknown, path: Path, scope: TemplateScope): void {
  const rs = dict(value);
  if (!rs) return;
  if (typeof rs.retryPolicy === "string" && !RETRY_POLICIES.includes(rs.retryPolicy)) {
    ctx.report(
      SPEC_CODES["SKF-SPEC-066"],
      `${rs.retryPolicy} is not a valid RetryPolicy`,
      [...path, "retryPolicy"],
      scope,
    );
  }
  const limit = rs.limit;
  if (has(limit) && !hasVar(limit)) {
    const n =
      typeof limit === "number"
        ? limit
        : typeof limit === "string" && /^-?\d+$/.test(limit)
          ? Number(limit)
          : Number.NaN;
    if (!Number.isInteger(n) || n < 0)
      ctx.report(
        SPEC_CODES["SKF-SPEC-066"],
        `retryStrategy.limit '${String(limit)}' must be a non-negative integer`,
        [...path, "limit"],
        scope,
      );
  }
  const backoff = dict(rs.backoff);
  if (backoff)
    for (const k of ["duration", "maxDuration", "cap"])
      checkDuration(ctx, backoff[k], [...path, "backoff", k], scope, true);
}

/** Go durations (and, where Argo allows it, whole seconds); values with variables are checked at run time. */
export function checkDuration(
  ctx: RuleContext,
  value: unknown,
  path: Path,
  scope: TemplateScope,
  allowSeconds: boolean,
): void {
  if (!has(value) || value === "" || hasVar(value)) return;
  if (typeof value === "number") {
    if (!allowSeconds)
      ctx.report(
        SPEC_CODES["SKF-SPEC-063"],
        `${formatPath(path)}: invalid duration ${value} (use e.g. "${value}s")`,
        path,
        scope,
      );
    return;
  }
  if (typeof value !== "string") return;
  if (!allowSeconds && /^[-+]?\d+$/.test(value.trim())) {
    ctx.report(
      SPEC_CODES["SKF-SPEC-063"],
      `${formatPath(path)}: invalid duration "${value}" (use e.g. "${value}s")`,
      path,
      scope,
    );
    return;
  }
  try {
    parseDuration(value);
  } catch {
    ctx.report(SPEC_CODES["SKF-SPEC-063"], `${formatPath(path)}: invalid duration "${value}"`, path, scope);
  }
}
