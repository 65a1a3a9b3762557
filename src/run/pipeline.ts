import { toSkiffError, type SkiffError } from "../../runtime/errors/index.js";
import type { CompiledWorkflow } from "../../runtime/spec/compiled.js";
import type { Workflow } from "../../runtime/spec/types.js";
import type { SkiffConfig } from "../config/index.js";
import type { RunEvent, RunReporter } from "../reporters/events.js";
import { runCompiledWorkflow, type RunHooks, type RunOptions } from "./engine.js";
import { compileRunnable, type Selection } from "./select.js";

/** Runs one compiled workflow; the engine's {@link runCompiledWorkflow}, or a stand-in in tests. */
export type RunWorkflow = (
  compiled: CompiledWorkflow,
  config: SkiffConfig,
  hooks: RunHooks,
  run: RunOptions,
) => Promise<Workflow>;

/** How {@link runSelection} compiles, runs and reports a selection. */
export interface RunSelectionOptions {
  /**
   * The config the workflows run with. A function is called once the selection's skips and rejections are
   * reported, so that a config problem does not hide them.
   */
  config: SkiffConfig | (() => Promise<SkiffConfig>);
  /** Attached before anything is reported; finished, in this order, after the last workflow. */
  reporters?: readonly RunReporter[];
  /**
   * `continue` (the Action): a workflow that cannot compile or start is reported as rejected and the
   * next one runs. `stop` (the command line): every workflow is compiled before the first runs, and the
   * first problem is thrown.
   */
  onError?: "continue" | "stop";
  /** Signals, workspace, clock, abort signal, metrics: passed to every run. */
  hooks?: Omit<RunHooks, "onEvent">;
  /** Replaces the engine (tests). */
  runWorkflow?: RunWorkflow;
}

/** What became of one selected (or rejected) pipeline. */
export interface WorkflowResult {
  pipeline: string;
  /** The workflow's `metadata.name`, once it ran. */
  name?: string;
  /** The workflow's phase; `Error` for one that could not compile or start. */
  phase: string;
  /** The workflow's message, or the rejection's code and message. */
  message?: string;
  file?: string;
  /** The final workflow, once it ran. */
  workflow?: Workflow;
  /** The workflow's output parameters (`status.outputs.parameters`), by name. */
  outputs: Record<string, string>;
  /** Why it could not run. */
  error?: SkiffError;
}

/** What a run of a selection did. */
export interface RunResult {
  /** `Failed` when a workflow did not succeed or was rejected; `Skipped` when nothing ran. */
  phase: "Succeeded" | "Failed" | "Skipped";
  /** Rejected and run workflows, in the order they were reported. */
  workflows: WorkflowResult[];
  /** Pipelines the event did not select. */
  skipped: Selection["skipped"];
  skipCi?: string;
  ran: number;
  failed: number;
  rejected: number;
}

/**
 * The one run pipeline's compile -> run -> report stage, shared by the Action, every command that runs a
 * workflow and, later, the server. A selection comes from `selectPaths`, `selectForEvent` or
 * `selectStored`; the reporters see every step as {@link RunEvent}s and are finished before this resolves.
 * Workflows run one after another.
 */
export async function runSelection(selection: Selection, options: RunSelectionOptions): Promise<RunResult> {
  const reporters = options.reporters ?? [];
  const emit = (e: RunEvent) => {
    for (const r of reporters) {
      try {
        r.onEvent(e);
      } catch {
        // A reporter's failure costs its own output, never the run.
      }
    }
  };
  const result: RunResult = {
    phase: "Skipped",
    workflows: [],
    skipped: selection.skipped,
    ...(selection.skipCi ? { skipCi: selection.skipCi } : {}),
    ran: 0,
    failed: 0,
    rejected: 0,
  };
  const reject = (e: Omit<Extract<RunEvent, { type: "rejected" }>, "type">) => {
    result.rejected++;
    result.workflows.push({
      pipeline: e.pipeline,
      phase: "Error",
      message: `${e.error.code} ${e.error.message}`,
      outputs: {},
      error: e.error,
    });
    emit({ type: "rejected", ...e });
  };
  const stop = options.onError === "stop";

  for (const r of selection.rejected) {
    if (stop) throw r.error;
    reject({ stage: "select", pipeline: r.pipeline, error: r.error });
  }
  for (const s of selection.skipped)
    emit({
      type: "skipped",
      pipeline: s.pipeline,
      reason: s.reason,
      ...(selection.skipCi ? { skipCi: selection.skipCi } : {}),
    });

  const config = typeof options.config === "function" ? await options.config() : options.config;
  // The command line refuses the whole selection when one workflow does not compile.
  const compiled = stop ? selection.runnables.map((r) => compileRunnable(selection, r)) : undefined;
  const runWorkflow = options.runWorkflow ?? runCompiledWorkflow;

  for (const [index, runnable] of selection.runnables.entries()) {
    const pipeline = runnable.name;
    let c: CompiledWorkflow;
    try {
      c = compiled?.[index] ?? compileRunnable(selection, runnable);
    } catch (e) {
      reject({ stage: "compile", pipeline, error: toSkiffError(e), index });
      continue;
    }
    const file = runnable.file;
    emit({ type: "workflow-starting", index, pipeline, ...(file ? { file } : {}), compiled: c });
    let wf: Workflow;
    try {
      const hooks: RunHooks = {
        ...options.hooks,
        onEvent: (event) => emit({ type: "controller", index, pipeline, event }),
      };
      const wrap = runnable.wrapExecutor;
      const outer = hooks.wrapExecutor;
      if (wrap) hooks.wrapExecutor = (e) => wrap(outer ? outer(e) : e);
      wf = await runWorkflow(c, config, hooks, {
        ...(runnable.persisted ? { persisted: runnable.persisted } : {}),
        ...(runnable.source ? { source: runnable.source } : {}),
        ...(runnable.resume !== undefined ? { resume: runnable.resume } : {}),
        ...(runnable.create ? { create: true } : {}),
      });
    } catch (e) {
      if (stop) throw e;
      reject({ stage: "run", pipeline, error: toSkiffError(e), index });
      continue;
    }
    result.ran++;
    const phase = wf.status?.phase ?? "Error";
    if (phase !== "Succeeded") result.failed++;
    const outputs = wf.status?.outputs?.parameters ?? [];
    result.workflows.push({
      pipeline,
      ...(wf.metadata.name !== undefined ? { name: wf.metadata.name } : {}),
      phase,
      ...(wf.status?.message ? { message: wf.status.message } : {}),
      ...(file ? { file } : {}),
      workflow: wf,
      outputs: Object.fromEntries(outputs.map((p) => [p.name, String(p.value ?? "")])),
    });
    emit({ type: "workflow-completed", index, pipeline, ...(file ? { file } : {}), workflow: wf });
  }

  for (const r of reporters) await r.finish?.().catch(() => undefined);
  result.phase = result.failed + result.rejected > 0 ? "Failed" : result.ran > 0 ? "Succeeded" : "Skipped";
  return result;
}
