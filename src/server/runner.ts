import type { ControllerEvent } from "../../runtime/interfaces/events.js";
import type { Executor } from "../../runtime/interfaces/executor.js";
import type { Store } from "../../runtime/interfaces/store.js";
import type { Workflow } from "../../runtime/spec/types.js";
import type { SkiffConfig } from "../config/index.js";
import { recoverWorkflow, withRecordedExecutor } from "../run/recover.js";
import { createExecutor } from "../run/executors.js";
import { claimWorkflow, leaseAlive, newOwnerId, readSource, recordedExecutor } from "../run/store.js";
import { isCompleted } from "../run/watch.js";
import type { ServerMetrics } from "./metrics.js";

/** How `WorkflowRunner` runs workflows. */
export interface RunnerOptions {
  config: SkiffConfig;
  /** The server's store, which its runs share. */
  store: Store;
  metrics: ServerMetrics;
  /** How often unowned workflows are looked for (ms). */
  pollMs?: number;
  /** Errors of runs that could not start or ended badly (the server logs them). */
  onError?: (namespace: string, name: string, error: unknown) => void;
}

/**
 * Runs the workflows of the server's store: those created through the API at once, and any workflow of the
 * store that is not completed and that no live process owns (a server that shut down or died, a killed
 * `skiff run`). Every run goes through the one run pipeline (`recoverWorkflow`) under the server's lease
 * owner, so several servers on one store never run a workflow twice.
 */
export class WorkflowRunner {
  /** The lease owner of every run of this server. */
  readonly owner = newOwnerId();
  private readonly active = new Map<string, Promise<void>>();
  private readonly handBack = new AbortController();
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;
  private scanning: Promise<void> | undefined;
  /** One executor per executor setting, shared by the runs: a host supervisor is started once, not per run. */
  private readonly executors = new Map<string, Promise<Executor>>();

  constructor(private readonly options: RunnerOptions) {}

  /** Starts looking for workflows to run: now, on every new Pending workflow, and every `pollMs`. */
  start(): void {
    void this.scan();
    this.timer = setInterval(() => void this.scan(), this.options.pollMs ?? 2000);
    this.unwatch = this.options.store.watch((e) => {
      const m = e.workflow.metadata;
      if (e.type === "put" && e.workflow.status?.phase === "Pending" && readSource(e.workflow))
        void this.take(m.namespace ?? "default", m.name ?? "");
    });
  }

  /** How many workflows this server runs now. */
  get running(): number {
    return this.active.size;
  }

  /** Looks once for workflows nobody runs. */
  scan(): Promise<void> {
    this.scanning ??= (async () => {
      try {
        const open = await this.options.store.list({ phases: ["Pending", "Running"] });
        for (const wf of open) {
          if (this.stopped) break;
          const { namespace = "default", name = "" } = wf.metadata;
          if (this.active.has(`${namespace}/${name}`) || !readSource(wf)) continue;
          if (leaseAlive(await this.options.store.getLease(namespace, name))) continue;
          await this.take(namespace, name);
        }
      } catch (e) {
        this.options.onError?.("", "", e);
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  /**
   * Takes a workflow's lease and runs it in the background. False when another process owns it, it is
   * completed, or it was not started by Skiff (no recorded source).
   */
  async take(namespace: string, name: string): Promise<boolean> {
    const key = `${namespace}/${name}`;
    if (this.stopped || this.active.has(key)) return false;
    let release!: () => void;
    // Held while the lease is claimed, so that a second take of the same workflow waits for nothing.
    this.active.set(key, new Promise<void>((r) => (release = r)));
    const { store, config, metrics } = this.options;
    const queuedAt = Date.now();
    let stored: Workflow | undefined;
    try {
      await claimWorkflow(store, namespace, name, this.owner);
      stored = await store.get(namespace, name);
    } catch {
      stored = undefined;
    }
    // Read after the claim: the previous owner may have completed it in between.
    if (!stored || isCompleted(stored) || !readSource(stored) || this.stopped) {
      if (stored) await store.releaseLease(namespace, name, this.owner).catch(() => undefined);
      this.active.delete(key);
      release();
      return false;
    }
    metrics.queued(+1);
    let started = false;
    const onEvent = (e: ControllerEvent) => {
      if (!started && (e.type === "workflow-started" || e.type === "node-updated")) {
        started = true;
        metrics.queued(-1);
        metrics.queueLatency((Date.now() - queuedAt) / 1000);
      }
      metrics.observe(e);
    };
    const runConfig = withRecordedExecutor(stored, config);
    const executor = await this.executorFor(runConfig);
    const run = recoverWorkflow(stored, runConfig, {
      store,
      ...(executor ? { executor } : {}),
      owner: this.owner,
      handBack: this.handBack.signal,
      metrics: metrics.custom,
      onEvent,
    })
      .then(
        () => undefined,
        (e: unknown) => {
          if ((e as { code?: string }).code !== "SKF-RUN-031") {
            metrics.error("OperationPanic");
            this.options.onError?.(namespace, name, e);
          }
        },
      )
      .finally(() => {
        if (!started) metrics.queued(-1);
        metrics.operation((Date.now() - queuedAt) / 1000);
        metrics.forget(namespace, name);
        this.active.delete(key);
      });
    this.active.set(key, run);
    release();
    return true;
  }

  /** The shared executor of a run's settings; undefined when it cannot be made (the run then says why). */
  private async executorFor(runConfig: SkiffConfig): Promise<Executor | undefined> {
    const key = JSON.stringify(recordedExecutor(runConfig));
    let made = this.executors.get(key);
    if (!made) {
      made = createExecutor(runConfig);
      this.executors.set(key, made);
      made.catch(() => this.executors.delete(key));
    }
    return made.catch(() => undefined);
  }

  /**
   * Stops taking workflows and hands every running one back: nothing more is written for them, their
   * steps go on, their leases are released, so the next server resumes them at once.
   */
  async handBackAll(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unwatch?.();
    await this.scanning;
    this.handBack.abort();
    await Promise.all(this.active.values());
  }

  /** Stops taking workflows and waits for the running ones to complete (tests, benchmarks). */
  async drain(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unwatch?.();
    await this.scanning;
    while (this.active.size > 0) await Promise.all(this.active.values());
    for (const made of this.executors.values()) await (await made.catch(() => undefined))?.cleanup();
    this.executors.clear();
  }
}
