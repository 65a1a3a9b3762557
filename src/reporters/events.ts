import type { SkiffError } from "../../runtime/errors/index.js";
import type { ControllerEvent } from "../../runtime/interfaces/events.js";
import type { CompiledWorkflow } from "../../runtime/spec/compiled.js";
import type { Workflow } from "../../runtime/spec/types.js";

/**
 * Where a workflow was stopped before it ran: while selecting (a pipeline file or trigger that cannot be
 * read), while compiling, or when the run could not start (no executor, the workflow owned elsewhere).
 */
export type RejectedStage = "select" | "compile" | "run";

/**
 * What the run pipeline (`src/run/pipeline.ts`) tells reporters, in order. Workflows run one after another;
 * the events of one workflow carry its `index` in the selection. A reporter only listens: it never changes
 * the run, and a reporter that fails must not fail it.
 */
export type RunEvent =
  /** The event did not select a pipeline (its triggers, `[skip ci]`). */
  | { type: "skipped"; pipeline: string; reason: string; skipCi?: string }
  /** A pipeline or workflow that cannot run; `error` may be an aggregate of every problem. */
  | { type: "rejected"; stage: RejectedStage; pipeline: string; error: SkiffError; index?: number }
  /** A workflow compiled and is about to start. */
  | { type: "workflow-starting"; index: number; pipeline: string; file?: string; compiled: CompiledWorkflow }
  /** One of the controller's events for the workflow started last. */
  | { type: "controller"; index: number; pipeline: string; event: ControllerEvent }
  /** The workflow ran to its end (whatever its phase). */
  | { type: "workflow-completed"; index: number; pipeline: string; file?: string; workflow: Workflow };

/** A run's listener. Called synchronously; never throws, never awaits. */
export type RunListener = (event: RunEvent) => void;

/** A reporter attached to a run: it listens to the run's events and finishes once the last workflow ended. */
export interface RunReporter {
  onEvent: RunListener;
  /** Sends or writes what is still pending. Awaited in the order reporters were given; never rejects. */
  finish?(): Promise<void>;
}
