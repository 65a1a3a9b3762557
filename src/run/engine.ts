import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startWorkflow, type RunningWorkflow } from "../../runtime/controller/index.js";
import { createLocalRepository } from "../../runtime/artifacts/repository.js";
import { createHostExecutor } from "../../runtime/executors/host/index.js";
import { SystemClock, type Clock } from "../../runtime/interfaces/clock.js";
import type { ControllerEventListener } from "../../runtime/interfaces/events.js";
import type { Executor } from "../../runtime/interfaces/executor.js";
import type { CompiledWorkflow } from "../../runtime/spec/compiled.js";
import type { Workflow } from "../../runtime/spec/types.js";
import { defineErrorCodes, SkiffError } from "../../runtime/errors/index.js";
import type { SkiffConfig } from "../config/index.js";
import { RunDirectory } from "./control.js";

export const ENGINE_CODES = defineErrorCodes({
  "SKF-RUN-002": {
    title: "Executor not available",
    hint: "Use --executor host (the default when no Docker engine answers), or install and start the engine asked for.",
  },
});

export interface RunHooks {
  onEvent?: ControllerEventListener;
  /** Turn SIGINT/SIGTERM into `stop` (first) and `terminate` (second). */
  signals?: boolean;
  clock?: Clock;
  /** The folder steps see as their workspace (default: the current directory). */
  workspace?: string;
  /** Aborting terminates the workflow (as `skiff terminate` would). */
  signal?: AbortSignal;
  /** Wraps the executor (benchmarks and tests observe step starts and ends through this). */
  wrapExecutor?: (executor: Executor) => Executor;
}

/** Creates the executor a config asks for. `auto` is the host executor until the Docker one exists. */
export function createExecutor(config: SkiffConfig): Executor {
  switch (config.executor) {
    case "auto":
    case "host":
      return createHostExecutor({
        sandbox: config.host.sandbox,
        images: config.images,
        workDir: join(config.stateDir, "steps"),
        ...(config.extraCAFiles.length > 0
          ? { extraCACerts: config.extraCAFiles.map((f) => readFileSync(f, "utf8")).join("\n") }
          : {}),
      });
    default:
      throw new SkiffError(
        "SKF-RUN-002",
        `the ${config.executor} executor is not available in this version of Skiff`,
      );
  }
}

/**
 * Runs one compiled workflow to completion with the configured executor, the embedded artifact repository
 * and the run directory (snapshots for `skiff get`, commands from `skiff resume/stop/...`).
 */
export async function runCompiledWorkflow(
  compiled: CompiledWorkflow,
  config: SkiffConfig,
  hooks: RunHooks = {},
): Promise<Workflow> {
  const base = createExecutor(config);
  const executor = hooks.wrapExecutor ? hooks.wrapExecutor(base) : base;
  const artifactRoot = config.artifactRepository.local?.path ?? join(config.stateDir, "artifacts");
  const name = compiled.workflow.metadata.name ?? "workflow";
  const namespace = compiled.workflow.metadata.namespace ?? "default";
  const runDir = new RunDirectory(join(config.stateDir, "runs"), namespace, name);
  await runDir.create();

  let running: RunningWorkflow | undefined;
  const onEvent: ControllerEventListener = (e) => {
    hooks.onEvent?.(e);
    if (e.type === "workflow-updated" || e.type === "node-updated" || e.type === "workflow-started") {
      runDir.scheduleSnapshot(e.workflow);
    }
  };
  running = startWorkflow(compiled, {
    executor,
    clock: hooks.clock ?? new SystemClock(),
    artifactRepository: createLocalRepository(artifactRoot, {
      localPlugins: config.artifactDrivers.map((d) => d.name),
    }),
    onEvent,
    workspace: hooks.workspace ?? process.cwd(),
  });
  const stopWatching = runDir.watchCommands((cmd) => {
    if (!running) return;
    switch (cmd.action) {
      case "resume":
        running.resume(cmd.nodeFieldSelector);
        break;
      case "suspend":
        running.suspend();
        break;
      case "stop":
        running.stop("Stop");
        break;
      case "terminate":
        running.stop("Terminate");
        break;
      case "set":
        if (cmd.nodeFieldSelector && cmd.outputParameters)
          running.setOutputParameters(cmd.nodeFieldSelector, cmd.outputParameters);
        break;
    }
  });

  const onAbort = () => running?.stop("Terminate");
  hooks.signal?.addEventListener("abort", onAbort, { once: true });
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    running?.stop(interrupts === 1 ? "Stop" : "Terminate");
  };
  if (hooks.signals) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  try {
    const wf = await running.done;
    await runDir.writeSnapshot(wf);
    return wf;
  } finally {
    stopWatching();
    hooks.signal?.removeEventListener("abort", onAbort);
    if (hooks.signals) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    await executor.cleanup();
    running = undefined;
  }
}
