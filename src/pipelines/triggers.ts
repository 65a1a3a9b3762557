import picomatch from "picomatch";
import { SkiffError, type SourcePosition } from "../../runtime/errors/index.js";
import { PIPE_CODES } from "./codes.js";
import type { GitContext } from "./git-context.js";

/** The annotations that select a pipeline for a Git event. */
export const TRIGGER_ANNOTATIONS = {
  event: "skiff.dev/on-event",
  targetBranch: "skiff.dev/on-target-branch",
  pathChange: "skiff.dev/on-path-change",
  pathChangeIgnore: "skiff.dev/on-path-change-ignore",
  comment: "skiff.dev/on-comment",
} as const;

/** Events a pipeline without `skiff.dev/on-event` runs on. Comments and schedules must be asked for. */
export const DEFAULT_EVENTS: readonly string[] = ["push", "pull_request", "workflow_dispatch"];

/** The trigger annotations of one object, parsed. */
export interface Triggers {
  /** Undefined when not annotated (then {@link DEFAULT_EVENTS}). */
  events?: string[];
  targetBranches?: string[];
  paths?: string[];
  pathsIgnore?: string[];
  comment?: RegExp;
}

/** Whether an object runs for an event, and why (shown in logs and in the neutral check of a skipped run). */
export interface TriggerDecision {
  run: boolean;
  reason: string;
}

/**
 * Reads a list annotation: `push`, `push, pull_request` or `[push, "pull_request"]`. Empty entries are
 * dropped; a value that is only brackets is an empty list.
 */
export function parseList(value: string): string[] {
  let s = value.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  return s
    .split(",")
    .map((x) => x.trim().replace(/^(["'])(.*)\1$/, "$2"))
    .filter((x) => x !== "");
}

/**
 * Parses the `skiff.dev/on-*` annotations. Throws SKF-PIPE-005 at the annotation's line when one cannot be
 * read (a malformed regular expression, an empty list).
 */
export function readTriggers(
  annotations: Record<string, string> | undefined,
  positionOf: (annotation: string) => SourcePosition | undefined = () => undefined,
): Triggers {
  const a = annotations ?? {};
  const triggers: Triggers = {};
  const list = (key: string): string[] | undefined => {
    const v = a[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string")
      throw new SkiffError(PIPE_CODES["SKF-PIPE-005"], `${key} must be a string`, {
        position: positionOf(key),
      });
    const items = parseList(v);
    if (items.length === 0)
      throw new SkiffError(PIPE_CODES["SKF-PIPE-005"], `${key} is empty`, { position: positionOf(key) });
    return items;
  };
  triggers.events = list(TRIGGER_ANNOTATIONS.event);
  triggers.targetBranches = list(TRIGGER_ANNOTATIONS.targetBranch);
  triggers.paths = list(TRIGGER_ANNOTATIONS.pathChange);
  triggers.pathsIgnore = list(TRIGGER_ANNOTATIONS.pathChangeIgnore);
  const comment = a[TRIGGER_ANNOTATIONS.comment];
  if (comment !== undefined) {
    try {
      triggers.comment = new RegExp(String(comment), "m");
    } catch (e) {
      throw new SkiffError(
        PIPE_CODES["SKF-PIPE-005"],
        `${TRIGGER_ANNOTATIONS.comment} is not a regular expression: ${(e as Error).message}`,
        { position: positionOf(TRIGGER_ANNOTATIONS.comment) },
      );
    }
  }
  for (const k of Object.keys(triggers) as (keyof Triggers)[])
    if (triggers[k] === undefined) delete triggers[k];
  return triggers;
}

const PATH_EVENTS = new Set(["push", "pull_request", "pull_request_target"]);

/**
 * Decides whether an object with these triggers runs for the event. Rules, in order: the event must be
 * listed (a comment pattern implies `issue_comment`); a comment must match the pattern; the target branch
 * (or full ref) must match a branch glob; for pushes and pull requests with known changed files, at least
 * one changed file must match `on-path-change` and not `on-path-change-ignore`.
 */
export function matchTriggers(triggers: Triggers, ctx: GitContext): TriggerDecision {
  const events = [...(triggers.events ?? DEFAULT_EVENTS)];
  if (triggers.comment && !events.includes("issue_comment")) events.push("issue_comment");
  if (!events.includes(ctx.event))
    return { run: false, reason: `event ${ctx.event} is not one of ${events.join(", ")}` };

  if (ctx.event === "issue_comment" && ctx.pullRequest === undefined)
    return { run: false, reason: "the comment is not on a pull request" };
  if (ctx.event === "issue_comment" && triggers.comment) {
    if (!triggers.comment.test(ctx.comment ?? ""))
      return {
        run: false,
        reason: `the comment does not match ${triggers.comment.source.replace(/\\\//g, "/")}`,
      };
  }

  if (triggers.targetBranches) {
    const isMatch = picomatch(triggers.targetBranches, { dot: true });
    const branch = ctx.targetBranch;
    if (!(branch !== "" && isMatch(branch)) && !isMatch(ctx.ref))
      return {
        run: false,
        reason: `target branch ${branch || ctx.ref} does not match ${triggers.targetBranches.join(", ")}`,
      };
  }

  if ((triggers.paths || triggers.pathsIgnore) && PATH_EVENTS.has(ctx.event)) {
    if (ctx.changedFiles === undefined)
      return { run: true, reason: "the changed files are not known, so path filters match" };
    const include = triggers.paths ? picomatch(triggers.paths, { dot: true }) : () => true;
    const ignore = triggers.pathsIgnore ? picomatch(triggers.pathsIgnore, { dot: true }) : () => false;
    const hit = ctx.changedFiles.find((f) => include(f) && !ignore(f));
    if (hit === undefined)
      return {
        run: false,
        reason: triggers.paths
          ? `no changed file matches ${triggers.paths.join(", ")}${triggers.pathsIgnore ? ` (ignoring ${triggers.pathsIgnore.join(", ")})` : ""}`
          : `every changed file matches ${triggers.pathsIgnore!.join(", ")}`,
      };
    return { run: true, reason: `${hit} changed` };
  }
  return { run: true, reason: `event ${ctx.event} matches` };
}
