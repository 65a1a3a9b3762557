import { SkiffError } from "../../runtime/errors/index.js";
import { checkExpressionSyntax } from "../../runtime/expr/index.js";
import type { CompiledWorkflow } from "../../runtime/spec/compiled.js";
import type { Library } from "../../runtime/spec/library.js";
import type { LoadedManifest } from "../../runtime/spec/load.js";
import { compile } from "../../runtime/spec/validate.js";
import type { CompileOptions } from "../../runtime/spec/index.js";
import { gitParameters, skipMarker, type GitContext } from "./git-context.js";
import { matchTriggers, readTriggers, TRIGGER_ANNOTATIONS, type TriggerDecision } from "./triggers.js";

/** One runnable object of the pipelines folder and whether the event selects it. */
export interface PipelineCandidate {
  manifest: LoadedManifest;
  /** `metadata.name`, else `generateName` without its trailing dash. */
  name: string;
  decision: TriggerDecision;
}

export interface PipelineSelection {
  selected: PipelineCandidate[];
  skipped: PipelineCandidate[];
  /** Set when the head commit asks to skip CI (`[skip ci]`...): nothing is selected. */
  skipCi?: string;
  /** Trigger annotations that could not be read; their objects are neither selected nor skipped. */
  problems: SkiffError[];
}

/** Events CronWorkflows run on when not annotated: their schedule, or a manual start. */
const CRON_EVENTS = "schedule, workflow_dispatch";

/** The name a pipeline is shown under. */
export function pipelineName(m: LoadedManifest): string {
  const meta = m.object.metadata ?? {};
  return meta.name ?? meta.generateName?.replace(/-$/, "") ?? "workflow";
}

/**
 * Picks what runs for an event. Workflows are candidates; so are CronWorkflows (by default on `schedule` and
 * `workflow_dispatch`) and WorkflowTemplates that carry `skiff.dev/on-event`. Everything else is the library
 * that references resolve against.
 */
export function selectPipelines(manifests: readonly LoadedManifest[], ctx: GitContext): PipelineSelection {
  const out: PipelineSelection = { selected: [], skipped: [], problems: [] };
  const marker = skipMarker(ctx);
  if (marker) out.skipCi = marker;
  for (const m of manifests) {
    const kind = m.object.kind;
    const annotations = { ...(m.object.metadata?.annotations ?? {}) };
    if (kind === "CronWorkflow") annotations[TRIGGER_ANNOTATIONS.event] ??= CRON_EVENTS;
    else if (kind === "WorkflowTemplate") {
      if (annotations[TRIGGER_ANNOTATIONS.event] === undefined) continue;
    } else if (kind !== "Workflow") continue;
    let decision: TriggerDecision;
    try {
      const triggers = readTriggers(annotations, (key) => m.positions.get(["metadata", "annotations", key]));
      decision = matchTriggers(triggers, ctx);
    } catch (e) {
      if (e instanceof SkiffError) {
        out.problems.push(e);
        continue;
      }
      throw e;
    }
    if (marker && decision.run) decision = { run: false, reason: `the head commit says ${marker}` };
    if (decision.run && kind === "CronWorkflow") decision = matchSchedule(m, ctx) ?? decision;
    (decision.run ? out.selected : out.skipped).push({ manifest: m, name: pipelineName(m), decision });
  }
  return out;
}

/** Cron strings compare field by field: `0  2 * * *` is `0 2 * * *`. */
const normalizeCron = (s: string): string => s.trim().split(/\s+/).join(" ");

/**
 * On a `schedule` event that names its cron string, a CronWorkflow runs only when that string is one of
 * its schedules (GitHub's schedules are UTC: the CronWorkflow's timezone is not applied to the match).
 * Undefined when the event does not restrict it.
 */
function matchSchedule(m: LoadedManifest, ctx: GitContext): TriggerDecision | undefined {
  if (ctx.event !== "schedule" || ctx.schedule === undefined) return undefined;
  const spec = (m.object as { spec?: { schedule?: unknown; schedules?: unknown } }).spec ?? {};
  const own = [
    ...(typeof spec.schedule === "string" ? [spec.schedule] : []),
    ...(Array.isArray(spec.schedules)
      ? spec.schedules.filter((s): s is string => typeof s === "string")
      : []),
  ];
  const wanted = normalizeCron(ctx.schedule);
  if (own.some((s) => normalizeCron(s) === wanted)) return undefined;
  return {
    run: false,
    reason: `the schedule event is for "${ctx.schedule}", not one of this CronWorkflow's schedules (${own.map((s) => `"${s}"`).join(", ") || "none"})`,
  };
}

export interface CompilePipelineOptions {
  /** User parameters (the action's `parameters` input, workflow_dispatch inputs); they win over the Git context's. */
  parameters?: Record<string, string>;
  /** Explicit run name. */
  name?: string;
}

/**
 * The compile options of a selected pipeline: the Git context as global parameters (`git-sha`, `git-ref`...),
 * the dispatch inputs the workflow declares and the user's parameters, which win. Parameters the workflow
 * does not declare are added, as `argo submit -p` does.
 */
export function pipelineCompileOptions(
  candidate: PipelineCandidate,
  ctx: GitContext,
  options: CompilePipelineOptions = {},
): CompileOptions {
  const declared = new Set(
    (
      candidate.manifest.object as { spec?: { arguments?: { parameters?: { name: string }[] } } }
    ).spec?.arguments?.parameters?.map((p) => p.name) ?? [],
  );
  // Dispatch inputs only fill parameters the workflow declares: inputs are shared by every pipeline.
  const inputs = Object.fromEntries(Object.entries(ctx.inputs ?? {}).filter(([k]) => declared.has(k)));
  const parameters = { ...gitParameters(ctx), ...inputs, ...(options.parameters ?? {}) };
  return { checkExpressionSyntax, parameters, ...(options.name ? { name: options.name } : {}) };
}

/**
 * Compiles a selected pipeline with {@link pipelineCompileOptions}. Throws SkiffAggregateError with every
 * problem.
 */
export function compilePipeline(
  candidate: PipelineCandidate,
  library: Library,
  ctx: GitContext,
  options: CompilePipelineOptions = {},
): CompiledWorkflow {
  return compile(candidate.manifest, library, pipelineCompileOptions(candidate, ctx, options));
}
