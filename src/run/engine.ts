import { join } from "node:path";
import { resumeWorkflow, startWorkflow, type RunningWorkflow } from "../../runtime/controller/index.js";
import {
  collectArtifactGarbage,
  createWorkflowArtifactRepository,
  usesArtifactGC,
} from "../../runtime/artifacts/index.js";
import { SkiffError } from "../../runtime/errors/index.js";
import { SystemClock, type Clock } from "../../runtime/interfaces/clock.js";
import type { ControllerEventListener } from "../../runtime/interfaces/events.js";
import type { PutOptions, Store } from "../../runtime/interfaces/store.js";
import type { Executor, LogLine } from "../../runtime/interfaces/executor.js";
import type { MetricsSink } from "../../runtime/interfaces/metrics.js";
import type { CompiledWorkflow } from "../../runtime/spec/compiled.js";
import type { Workflow } from "../../runtime/spec/types.js";
import { STORE_CODES } from "../../runtime/store/index.js";
import type { SkiffConfig } from "../config/index.js";
import { watchCommands } from "./control.js";
import { createExecutor } from "./executors.js";
import {
  claimWorkflow,
  LEASE_TTL_MS,
  newOwnerId,
  openRunStore,
  recordedExecutor,
  refuseExisting,
  SOURCE_ANNOTATION,
  type RunSource,
} from "./store.js";

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
  /** Receives the workflow's custom metrics (`--metrics-file`). */
  metrics?: MetricsSink;
  /**
   * The store to run in, left open after the run (a server shares its own); default: the config's store,
   * opened for the run and closed after it.
   */
  store?: Store;
  /**
   * The executor to run with, not cleaned up after the run (a server shares one between its runs); default:
   * one created from the config for the run and cleaned up after it.
   */
  executor?: Executor;
  /** The lease owner to run as, when the caller already holds the lease (the server); default: a new owner. */
  owner?: string;
  /**
   * Aborting hands the workflow back without ending it (a server shutting down): nothing more is written to
   * the store, running steps are left to run, the lease is released so that another process resumes the
   * workflow at once, and the run rejects with `SKF-RUN-031`.
   */
  handBack?: AbortSignal;
}

/**
 * A store whose writes stop once `gate.closed` is set (a run handed back); the writes already under way are
 * in `gate.writes`, so the lease is released only after they landed.
 */
function fenceWrites(store: Store, gate: { closed: boolean; writes: Set<Promise<unknown>> }): Store {
  const fenced = new Set<PropertyKey>(["put", "appendLogs", "delete"]);
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(target);
      if (!fenced.has(prop)) return fn;
      return (...args: unknown[]) => {
        if (gate.closed) return Promise.resolve();
        const write = fn(...args) as Promise<unknown>;
        gate.writes.add(write);
        const done = () => gate.writes.delete(write);
        write.then(done, done);
        return write;
      };
    },
  });
}

/**
 * The store as the controller sees it: a completed workflow is put only once the step logs buffered so far
 * are appended, so `logs --follow` readers, who stop at completion, see every line. A put that fails is
 * handed to `failed` (the controller itself only retries with a whole put).
 */
function logsFirst(store: Store, flushLogs: () => Promise<void>, failed: (e: unknown) => void): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "put")
        return async (wf: Workflow, options?: PutOptions) => {
          const phase = wf.status?.phase;
          if (phase === "Succeeded" || phase === "Failed" || phase === "Error") await flushLogs();
          return target.put(wf, options).catch((e: unknown) => {
            failed(e);
            throw e;
          });
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** What a run continues from, when it is a recovery (`skiff resume` of a killed run). */
export interface RunOptions {
  /** The stored workflow to continue (its succeeded nodes are kept). */
  persisted?: Workflow;
  /** Recorded on the workflow so that a killed run can be compiled again. */
  source?: RunSource;
  /** After recovering: resume the workflow (`true`) or the suspend nodes a selector matches. */
  resume?: true | string;
  /** A new workflow: refused (`SKF-RUN-014`) when the store already holds its name, as Argo's create is. */
  create?: boolean;
}

/**
 * Runs one compiled workflow to completion with the configured executor and the embedded artifact repository,
 * in the store: it takes the workflow's lease (renewed while running), has the controller persist every
 * transition, writes step logs to the store, memoizes through it and applies the commands other `skiff`
 * processes send through it. Throws `SKF-RUN-005` when another live process owns the workflow.
 */
export async function runCompiledWorkflow(
  compiled: CompiledWorkflow,
  config: SkiffConfig,
  hooks: RunHooks = {},
  run: RunOptions = {},
): Promise<Workflow> {
  const name = compiled.workflow.metadata.name ?? "workflow";
  const namespace = compiled.workflow.metadata.namespace ?? "default";
  // Resolved before anything is claimed: a missing or invalid repository fails the run up front.
  const artifactRepository = createWorkflowArtifactRepository({
    configured: config.artifactRepository,
    localRoot: join(config.stateDir, "artifacts"),
    workflow: run.persisted ?? compiled.workflow,
    configMaps: compiled.configMaps,
    localPlugins: config.artifactDrivers.map((d) => d.name),
    // Secrets loaded beside the workflow supply the credentials remote artifact locations name.
    remote: { secrets: (secretName) => compiled.secrets.get(secretName) },
  });
  const opened = hooks.store ?? (await openRunStore(config));
  const closeStore = () => (hooks.store ? Promise.resolve() : opened.close());
  const owner = hooks.owner ?? newOwnerId();
  const gate = { closed: false, writes: new Set<Promise<unknown>>() };
  const store = hooks.handBack ? fenceWrites(opened, gate) : opened;
  try {
    // A live owner is named first (SKF-RUN-005); then a create of a stored name is refused untouched.
    await claimWorkflow(store, namespace, name, owner);
    if (run.create && !run.persisted)
      await refuseExisting(store, namespace, name).catch(async (e: unknown) => {
        await store.releaseLease(namespace, name, owner).catch(() => undefined);
        throw e;
      });
    // Handed back before it started: nothing was run, the workflow goes back as it was.
    if (hooks.handBack?.aborted) {
      await store.releaseLease(namespace, name, owner).catch(() => undefined);
      throw new SkiffError("SKF-RUN-031", `workflow ${namespace}/${name} was handed back before it started`);
    }
  } catch (e) {
    await closeStore();
    throw e;
  }
  // Step records of killed runs go once their workflow is gone from this store or completed.
  const base =
    hooks.executor ??
    (await createExecutor(config, async (w) => {
      const stored = await store.get(w.namespace, w.name);
      const phase = stored?.status?.phase;
      return (
        stored?.metadata.uid === w.uid && phase !== "Succeeded" && phase !== "Failed" && phase !== "Error"
      );
    }));
  const executor = hooks.wrapExecutor ? hooks.wrapExecutor(base) : base;
  const workspace = run.source?.workspace ?? hooks.workspace ?? process.cwd();
  if (run.source) {
    // The executor as resolved (`auto` -> host or docker): a later resume runs on the same one.
    const source: RunSource = {
      ...run.source,
      executor: recordedExecutor(
        config,
        base.name === "host" || base.name === "docker" ? base.name : config.executor,
      ),
    };
    const meta = compiled.workflow.metadata;
    meta.annotations = { ...meta.annotations, [SOURCE_ANNOTATION]: JSON.stringify(source) };
  }

  let running: RunningWorkflow | undefined;
  // The first write of the run's records that failed (a full disk, a read-only or failing store): nothing
  // more is scheduled, and the run ends as an error naming the file, whatever its steps did, because its
  // records (status, logs) no longer hold everything that happened.
  let storeFailure: SkiffError | undefined;
  const storeFailed = (e: unknown): void => {
    if (storeFailure) return;
    storeFailure = asStoreWriteError(e);
    running?.stop("Terminate");
  };

  // Log lines are batched: one durable append per burst instead of one per line.
  let logBuffer: LogLine[] = [];
  let logWrites: Promise<void> = Promise.resolve();
  const flushLogs = (): Promise<void> => {
    if (logBuffer.length === 0) return logWrites;
    const lines = logBuffer;
    logBuffer = [];
    logWrites = logWrites.then(() => store.appendLogs(namespace, name, lines).catch(storeFailed));
    return logWrites;
  };
  let logTimer: NodeJS.Timeout | undefined;

  const onEvent: ControllerEventListener = (e) => {
    hooks.onEvent?.(e);
    if (e.type === "log") {
      logBuffer.push(e.line);
      logTimer ??= setTimeout(() => {
        logTimer = undefined;
        void flushLogs();
      }, 50);
    }
  };
  const options = {
    executor,
    clock: hooks.clock ?? new SystemClock(),
    artifactRepository,
    onEvent,
    workspace,
    store: logsFirst(store, flushLogs, storeFailed),
    memoCache: store.memoCache(namespace),
    ...(hooks.metrics ? { metrics: hooks.metrics } : {}),
  };
  running = run.persisted
    ? resumeWorkflow(compiled, run.persisted, options)
    : startWorkflow(compiled, options);
  if (run.resume !== undefined) running.resume(run.resume === true ? undefined : run.resume);

  let leaseLost = false;
  const renew = setInterval(() => {
    void store
      .renewLease(namespace, name, owner, LEASE_TTL_MS, Date.now())
      .then((ok) => {
        // Someone took the workflow over: stop touching its steps.
        if (!ok && !leaseLost) {
          leaseLost = true;
          running?.stop("Terminate");
        }
      })
      .catch(() => undefined);
  }, LEASE_TTL_MS / 3);
  // Not unref'd: this timer keeps the process alive while the controller only waits on its own (unref'd)
  // timers, e.g. a retry backoff.

  const stopWatching = watchCommands(store, namespace, name, (cmd) => {
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

  let handedBack = false;
  let onHandBack: (() => void) | undefined;
  const handBack = new Promise<never>((_, reject) => {
    onHandBack = () => {
      handedBack = leaseLost = gate.closed = true;
      reject(new SkiffError("SKF-RUN-031", `workflow ${namespace}/${name} was handed back`));
    };
    if (hooks.handBack?.aborted) onHandBack();
    else hooks.handBack?.addEventListener("abort", onHandBack, { once: true });
  });
  handBack.catch(() => undefined);
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
    const wf = await Promise.race([running.done, handBack]);
    if (logTimer) clearTimeout(logTimer);
    logTimer = undefined;
    // Argo's artifact garbage collection of the OnWorkflowCompletion strategy; its outcome is in the status
    // (artifactGCStatus, deleted artifacts, an ArtifactGCError condition) that the final put below stores.
    if (!leaseLost && usesArtifactGC(wf, "OnWorkflowCompletion"))
      await collectArtifactGarbage(wf, "OnWorkflowCompletion", artifactRepository);
    await flushLogs();
    if (storeFailure) markStoreFailure(wf, storeFailure);
    // The final state once more, after the logs, so `logs --follow` readers see every line.
    if (!leaseLost) await store.put(wf).catch(storeFailed);
    if (storeFailure) throw storeFailure;
    return wf;
  } finally {
    stopWatching();
    clearInterval(renew);
    if (logTimer) clearTimeout(logTimer);
    hooks.signal?.removeEventListener("abort", onAbort);
    if (onHandBack) hooks.handBack?.removeEventListener("abort", onHandBack);
    if (hooks.signals) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    // Handed back: the steps keep running for the process that resumes the workflow to re-attach to.
    if (!handedBack && !hooks.executor) await executor.cleanup();
    running = undefined;
    await Promise.all([...gate.writes].map((w) => w.catch(() => undefined)));
    await opened.releaseLease(namespace, name, owner).catch(() => undefined);
    await closeStore();
  }
}

/** A failed write as the run reports it: the store's own coded error, or `SKF-STORE-001` around anything else. */
function asStoreWriteError(e: unknown): SkiffError {
  if (e instanceof SkiffError) return e;
  return new SkiffError(STORE_CODES["SKF-STORE-001"], `cannot save the run: ${(e as Error).message}`, {
    cause: e,
  });
}

/**
 * The workflow as stored after a failed write: Error with the store's message, so that a later reader (who
 * may see it once space is freed) is never told it succeeded while its records are incomplete.
 */
function markStoreFailure(wf: Workflow, failure: SkiffError): void {
  const status = (wf.status ??= {});
  status.phase = "Error";
  status.message = `the run's records could not be saved: ${failure.message}`;
}
