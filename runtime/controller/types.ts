import type { ArtifactRepository } from "../interfaces/artifacts.js";
import type { Clock } from "../interfaces/clock.js";
import type { ControllerEventListener } from "../interfaces/events.js";
import type { Executor } from "../interfaces/executor.js";
import type { MetricsSink } from "../interfaces/metrics.js";
import type { MemoCache } from "../interfaces/memo.js";
import type { Store } from "../interfaces/store.js";
import type { Workflow } from "../spec/types.js";
import type { SyncManager } from "./limits.js";

/** Everything the controller acts through. It never touches processes, sockets or files itself. */
export interface ControllerOptions {
  executor: Executor;
  clock: Clock;
  artifactRepository?: ArtifactRepository;
  /** When given: `store.put(workflow)` after every transition (transitions of one macrotask are coalesced). */
  store?: Store;
  /** Default: in-memory, per workflow run. Share one to memoize across runs. */
  memoCache?: MemoCache;
  onEvent?: ControllerEventListener;
  /** Passed to every StepRequest. */
  workspace?: string;
  /** Extra env for every step. */
  env?: Record<string, string>;
  /** Mutexes and semaphores; default: one manager shared by every workflow of the process. */
  synchronization?: SyncManager;
  /** Receives Argo's custom metrics (`spec.metrics`, template `metrics`); without it they are not computed. */
  metrics?: MetricsSink;
}

/** A workflow being run by the controller. */
export interface RunningWorkflow {
  readonly name: string;
  /** The final Workflow (spec + status). Never rejects for workflow failures. */
  readonly done: Promise<Workflow>;
  /** The current Workflow object, in Argo's shape (a copy). */
  snapshot(): Workflow;
  /** `argo stop` / `argo terminate`. */
  stop(strategy: "Stop" | "Terminate"): void;
  /** `argo suspend`: no new nodes are started until `resume()`. */
  suspend(): void;
  /** `argo resume`: clears `suspend()` and resumes suspend nodes (all, or those the selector matches). */
  resume(nodeFieldSelector?: string): void;
  /** `argo node set --output-parameter`: sets supplied outputs of matching suspend nodes. */
  setOutputParameters(nodeSelector: string, values: Record<string, string>): void;
}
