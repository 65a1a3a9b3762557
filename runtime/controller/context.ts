import type { TimerHandle } from "../interfaces/clock.js";
import type { ControllerEvent } from "../interfaces/events.js";
import type { StepHandle } from "../interfaces/executor.js";
import type { MemoCache } from "../interfaces/memo.js";
import type { PrometheusMetric } from "../interfaces/metrics.js";
import type { CompiledWorkflow, ResolvedTemplate, TemplateHolder, TemplateScope } from "../spec/compiled.js";
import {
  type Arguments,
  type Artifact,
  type InvocationBase,
  type NodeFlag,
  type NodePhase,
  type NodeStatus,
  type NodeType,
  type Outputs,
  type Parameter,
  type RetryStrategy,
  type Synchronization,
  type Template,
  templateTypeOf,
  type Workflow,
  type WorkflowPhase,
} from "../spec/types.js";
import type { Limiter, LockRequest, SyncManager } from "./limits.js";
import type { LoopItem } from "./loops.js";
import type { TemplateResolver } from "./stored.js";
import type { ControllerOptions } from "./types.js";
import { type LayeredVars, rfc3339, type SiblingScope } from "./vars.js";

/*
 * What the operator's concept modules share: the invocation records passed down the node tree, the
 * outcome a node's execution ends with, Argo's messages, and OperatorContext, the one source of a run's
 * state and the services the modules call on each other through it (so that no module imports another's
 * node logic, and the recursion steps -> executeTemplate -> steps makes no import cycle).
 */

export const MAX_DEPTH = 100;
export const FAIL_FAST_MESSAGE = "template has failed or errored children and failFast enabled";
export const DEADLINE_MESSAGE = "Step exceeded its deadline";
export const POD_DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline";
/** Argo's message for a pod that is gone without having been seen to finish. */
export const POD_DELETED_MESSAGE = "pod deleted";
export const ARTIFACT_REF = /\.outputs\.artifacts\./;

/** Where a template is being invoked from: the boundary, scope and flags that shape its node. */
export interface Invocation {
  boundaryID: string;
  boundary: Boundary | undefined;
  scope: TemplateScope;
  depth: number;
  /** Part of an exit handler or hook: exempt from the workflow deadline and from `Stop`. */
  onExit: boolean;
  flag?: NodeFlag;
  /** `steps.name` / `tasks.name` for the invoked template. */
  local?: [string, string];
  /** Whether the caller's template references this step's `outputs.result`. */
  captureResult: boolean;
  /** Called once the node exists, so the caller can wire it into the graph. */
  onCreate?: ((node: NodeStatus) => void) | undefined;
  /** Memoization key and cache of this invocation, once checked. */
  memo?: { key: string; cacheName: string } | undefined;
}

/** One steps/DAG invocation: its node, template-level parallelism and failFast state, and its daemons. */
export interface Boundary {
  node: NodeStatus;
  template: Template;
  limiter: Limiter | undefined;
  failFast: boolean;
  tripped: boolean;
  daemons: Set<RunningPod>;
}

export interface RunningPod {
  node: NodeStatus;
  handle: StepHandle;
  onExit: boolean;
  daemon: boolean;
  /** Set when the controller killed the step; the final phase/message come from here. */
  killed?: { phase: NodePhase; message: string };
}

export interface ProcessedInputs {
  parameters: Parameter[];
  artifacts: Artifact[];
}

/** What a new node record is made from (`createNode`); an existing node of that name is updated instead. */
export interface NodeInit {
  name: string;
  type: NodeType;
  phase: NodePhase;
  boundaryID: string;
  templateName?: string | undefined;
  templateRef?: ResolvedTemplate["templateRef"];
  scope?: TemplateScope;
  message?: string;
  flag?: NodeFlag | undefined;
  inputs?: ProcessedInputs;
  displayName?: string;
}

export interface SuspendWaiter {
  node: NodeStatus;
  resolve: (outcome: { phase: NodePhase; message?: string }) => void;
  timer?: TimerHandle;
}

/** Thrown inside a node's execution to end it with a phase and message. */
export class NodeOutcome extends Error {
  constructor(
    readonly phase: NodePhase,
    message: string,
  ) {
    super(message);
  }
}

export const iso = (ms: number): string => rfc3339(ms);

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function nodeTypeOfTemplate(t: Template): NodeType {
  switch (templateTypeOf(t)) {
    case "steps":
      return "Steps";
    case "dag":
      return "DAG";
    case "suspend":
      return "Suspend";
    case "http":
      return "HTTP";
    case "plugin":
      return "Plugin";
    default:
      return "Pod";
  }
}

export function holderTemplateName(h: TemplateHolder): string | undefined {
  return h.template ?? undefined;
}

/** `a(0)`, `a(1)`: attempt index of a retried node name. */
export function attemptName(name: string, k: number): string {
  return `${name}(${k})`;
}

/**
 * One workflow run as the concept modules see it: the state (kept in one object so it is persisted as
 * one `Workflow`), the options the controller acts through, and the services of the other modules. The
 * WorkflowOperator implements it by wiring each service to its module's function.
 */
export interface OperatorContext {
  readonly compiled: CompiledWorkflow;
  readonly options: ControllerOptions;
  // ---- the run's state
  /** The Workflow being run, in Argo's shape: what the store persists and snapshot() copies. */
  readonly wf: Workflow;
  readonly name: string;
  /** `status.nodes`, by node ID. */
  readonly nodes: Record<string, NodeStatus>;
  /** The global scope: `workflow.*` variables. */
  readonly globals: Map<string, string | null>;
  /** Children of each node as a set, so addChild stays O(1) on wide fan-outs. */
  readonly childSets: Map<string, Set<string>>;
  /** Steps the executor is running now (pods, HTTP), killed on shutdown and deadline. */
  readonly running: Set<RunningPod>;
  /** Pod nodes the persisted status left Running or Pending, by id: the executor may still run them. */
  readonly recovering: Map<string, NodePhase>;
  /** Suspend nodes waiting to be resumed (or for their duration). */
  readonly suspends: Set<SuspendWaiter>;
  /** Nodes waiting for a synchronization lock, by ID. */
  readonly waitingLocks: Map<string, { node: NodeStatus; cancel: (e: Error) => void }>;
  /** Retry nodes waiting out a backoff. */
  readonly backoffs: Set<{ node: NodeStatus; cancel: () => void }>;
  /** Callbacks run when a node's phase changes, by node ID. */
  readonly phaseListeners: Map<string, (() => void)[]>;
  /** `spec.parallelism`: pods running at once. */
  readonly workflowLimiter: Limiter | undefined;
  /** The memoization cache. */
  readonly memo: MemoCache;
  /** Mutexes and semaphores. */
  readonly sync: SyncManager;
  /** The workflow's namespace (`default` when unset). */
  readonly namespace: string;
  /** `spec.shutdown` once stopped or terminated. */
  shutdown: "" | "Stop" | "Terminate";
  /** Cancels waiting for the workflow-level lock, while the workflow waits for it. */
  cancelWorkflowLock: ((e: Error) => void) | undefined;
  /** Supplied suspend outputs set through `setOutputParameters` (Argo drops their valueFrom then). */
  readonly suppliedSet: Set<string>;
  /** `activeDeadlineSeconds` as an absolute time (ms). */
  deadline: number | undefined;
  /** Set once the workflow deadline has passed. */
  deadlineExceeded: boolean;
  /** Fires at the workflow deadline. */
  deadlineTimer: TimerHandle | undefined;
  /** `spec.suspend`: no new nodes are created while set. */
  suspended: boolean;
  /** Invocations waiting for `spec.suspend` to clear. */
  suspendWaiters: (() => void)[];
  /** Executable nodes complete, for `status.progress`. */
  execDone: number;
  /** Executable nodes created, for `status.progress`. */
  execTotal: number;
  /** The status changed since the last flush. */
  dirty: boolean;
  /** A flush is scheduled for the end of this macrotask. */
  flushScheduled: boolean;
  /** The store put in flight (or the last one). */
  flushing: Promise<void>;
  /** A put waits behind the one in flight. */
  putQueued: boolean;
  /** Nodes changed since the last put (ids), so the store writes those only; the first put is whole. */
  readonly changedNodes: Set<string>;
  /** Nodes not fulfilled yet: their fields change in many places, so every put carries them. */
  readonly activeNodes: Set<string>;
  /** The next put writes every node (the first put, the final one, and after a failed put). */
  wholePut: boolean;
  /** Set once the workflow has finished. */
  finished: boolean;
  /** Workflow-level hooks that fired, awaited before the workflow finishes. */
  wfHookRuns: Promise<unknown>[];
  /** Names of workflow-level hooks that fired (each fires once). */
  wfHooksFired: Set<string>;
  /** When the workflow started, for `workflow.duration`. */
  readonly startedAtMs: number;
  /** Hook checks the re-evaluation timer runs (workflow hooks, and hooks of steps not fulfilled yet). */
  readonly hookChecks: Set<() => void>;
  /** The hook re-evaluation timer, while some check is registered. */
  hookTimer: TimerHandle | undefined;
  /** Resolves the templates steps, tasks and hooks name. */
  readonly templates: TemplateResolver;
  /** `metadata.creationTimestamp` in ms, for `workflow.creationTimestamp.*`. */
  readonly creationMs: number;
  /** `workflow.outputs.artifacts.*`, for arguments that name them with `from`. */
  readonly globalArtifacts: Map<string, Artifact>;
  /** Nodes whose template could not even be set up (Argo's executeTemplate returning an error), by ID. */
  readonly setupErrors: Map<string, string>;
  /** Daemoned steps still up, killed when the workflow ends. */
  readonly daemonsAll: Set<RunningPod>;

  // ---- globals.ts
  initGlobals(): void;
  /** The globals, with `workflow.duration` brought up to date. */
  globalVars(): Map<string, string | null>;
  configMapValue(name: string, key: string): string | undefined;
  exportGlobalParameter(name: string, value: string): void;
  exportOutputs(outputs: Outputs | undefined, vars?: ReadonlyMap<string, string | null>): void;

  // ---- nodes.ts
  idOf(name: string): string;
  nodeByName(name: string): NodeStatus | undefined;
  createNode(init: NodeInit): NodeStatus;
  markPhase(node: NodeStatus, phase: NodePhase, message?: string): void;
  addChild(parent: NodeStatus, childId: string): void;
  onPhaseChange(node: NodeStatus, fn: () => void): () => void;
  /** A node that could not be set up: created (or turned) into an Error node with the message. */
  errorNode(
    name: string,
    inv: Invocation,
    message: string,
    type?: NodeType,
    holder?: TemplateHolder,
  ): NodeStatus;
  skippedNode(
    name: string,
    holder: InvocationBase,
    inv: Invocation,
    phase: NodePhase,
    message: string,
  ): NodeStatus;

  // ---- persistence.ts
  emit(event: ControllerEvent): void;
  /** Marks the status (and `node`) changed; transitions within one macrotask are persisted together. */
  touch(node?: NodeStatus): void;
  flush(): Promise<void>;

  // ---- template.ts
  /**
   * Executes the template a holder names as node `nodeName`. Resolves when the node is fulfilled (a ready
   * daemon counts), or `undefined` when it was never created (its boundary failed fast, or shutdown).
   * The template's custom metrics are emitted as Argo does: realtime gauges when the node is created, the
   * others once it completed in this run.
   */
  executeTemplate(
    nodeName: string,
    holder: TemplateHolder,
    args: Arguments,
    inv: Invocation,
    absentRefs?: Record<string, string>,
  ): Promise<NodeStatus | undefined>;
  executeNode(
    nodeName: string,
    holder: TemplateHolder,
    rt: ResolvedTemplate,
    inputs: ProcessedInputs,
    inv: Invocation,
    extraVars: Record<string, string>,
  ): Promise<NodeStatus | undefined>;

  // ---- inputs.ts
  /** Builds the variables a template sees: globals, inputs, node/pod names, local names. */
  templateVars(
    rt: ResolvedTemplate,
    inputs: ProcessedInputs,
    nodeName: string,
    inv: Invocation,
    extra?: Record<string, string>,
  ): LayeredVars;
  processInputs(template: Template, args: Arguments, absentRefs: Record<string, string>): ProcessedInputs;

  // ---- memoization.ts
  checkMemo(
    nodeName: string,
    holder: TemplateHolder,
    rt: ResolvedTemplate,
    inputs: ProcessedInputs,
    vars: LayeredVars,
    inv: Invocation,
  ): Promise<NodeStatus | undefined>;
  saveMemo(node: NodeStatus, inv: Invocation): Promise<void>;

  // ---- retry-strategy.ts
  executeRetry(
    nodeName: string,
    holder: TemplateHolder,
    rt: ResolvedTemplate,
    inputs: ProcessedInputs,
    inv: Invocation,
    strategy: RetryStrategy,
  ): Promise<NodeStatus | undefined>;

  // ---- synchronization.ts
  tripFailFast(boundary: Boundary): void;
  lockRequests(sync: Synchronization | undefined, vars: ReadonlyMap<string, string | null>): LockRequest[];
  /**
   * When a leaf node that is still Pending fails with Argo's `timeout` (§4.5): its startedAt plus the
   * template's `timeout` (which counts pending time too) or `pendingTimeout`, whichever comes first.
   */
  pendingDeadline(
    node: NodeStatus,
    template: Template,
    vars?: ReadonlyMap<string, string | null>,
  ): number | undefined;
  /**
   * Waits for what a Pending node waits on, failing it with `timeout` once `pendingAt` passes first;
   * `abandon` gives back what arrives too late (a parallelism slot, a started step).
   */
  untilPendingDeadline<T>(
    waiting: Promise<T>,
    pendingAt: number | undefined,
    abandon: (late: T) => void,
  ): Promise<T>;
  lockMessage(lock: LockRequest): string;
  acquireNodeLocks(
    node: NodeStatus,
    holder: string,
    locks: LockRequest[],
    pendingAt: number | undefined,
  ): Promise<void>;
  newBoundary(node: NodeStatus, template: Template): Boundary;

  // ---- pod.ts
  /** Runs a pod-like node. Returns true when the node goes on in the background (a ready daemon). */
  executeLeaf(
    node: NodeStatus,
    template: Template,
    rt: ResolvedTemplate,
    inputs: ProcessedInputs,
    inv: Invocation,
    releaseSlots: () => void,
    releaseLocks: () => void,
  ): Promise<boolean>;
  killPod(pod: RunningPod, phase: NodePhase, message: string): void;
  killDaemons(boundary: Boundary): Promise<void>;
  killAllDaemons(): Promise<void>;

  // ---- suspend.ts
  resumeAll(): void;
  /** Waits while `spec.suspend` is set: no new nodes are created then. */
  whileSuspended(): Promise<void>;
  executeSuspend(node: NodeStatus, template: Template, inputs: ProcessedInputs): Promise<void>;
  checkSuppliedDefaults(node: NodeStatus): void;
  fillSuppliedDefaults(node: NodeStatus): void;

  // ---- steps.ts
  executeSteps(
    node: NodeStatus,
    template: Template,
    vars: LayeredVars,
    childInv: Invocation,
    inputs: ProcessedInputs,
  ): Promise<void>;

  // ---- scope.ts
  /** Resolves sibling references in a step/task (strict: missing `steps.*` keys are errors here). */
  resolveInvocation<T extends InvocationBase>(
    step: T,
    scope: SiblingScope,
    itemVars?: ReadonlyMap<string, string>,
  ): { step: T; absentRefs: Record<string, string> };
  resolveArtifactArg(
    a: Artifact,
    scope: SiblingScope,
    vars: ReadonlyMap<string, string | null>,
  ): Artifact | undefined;
  expandLoop(step: InvocationBase, scope: SiblingScope): LoopItem[] | undefined;
  /** Evaluates a `when` once its tags are substituted. */
  shouldExecute(when: string | undefined, vars: ReadonlyMap<string, string | null>, prefix: string): boolean;
  /** Adds `<prefix>.<name>.*` for a finished child (Argo's buildLocalScope). */
  recordSibling(scope: SiblingScope, name: string, node: NodeStatus, holder: InvocationBase): void;
  /** Aggregated outputs of a loop (Argo's processAggregateNodeOutputs). */
  recordLoop(
    scope: SiblingScope,
    name: string,
    group: NodeStatus,
    children: NodeStatus[],
    _holder: InvocationBase,
  ): void;
  /** Outputs of a steps/DAG template from its sibling scope (`valueFrom.parameter` / `expression` / `from`). */
  templateOutputs(template: Template, scope: SiblingScope): Outputs | undefined;

  // ---- hooks.ts
  /**
   * After a step/task node exists: lifecycle hooks (watched on its phase changes) and, once it is
   * completed, its exit handler. Resolves when all triggered hooks and the exit handler are fulfilled.
   */
  /** Hooks and exit handler of a step/task whose node is already done (or found done on recovery). */
  runStepHooks(node: NodeStatus, step: InvocationBase, scope: SiblingScope, inv: Invocation): Promise<void>;
  /**
   * Starts watching a step/task node for its lifecycle hooks as soon as the node exists, so a hook on
   * `status == "Running"` fires while it runs. The returned function waits for the node, the hooks it
   * triggered and, once the node is completed, its exit handler.
   */
  watchStepHooks(
    node: NodeStatus,
    step: InvocationBase,
    scope: SiblingScope,
    inv: Invocation,
  ): () => Promise<void>;
  /** Whether the workflow has lifecycle hooks (other than `exit`) whose expression could turn true later. */
  hasTimedWorkflowHooks(): boolean;
  /**
   * Runs `check` every HOOK_REEVALUATION_MS of clock time until the returned function is called or the
   * workflow finishes. The timer exists only while some check is registered, and the real clock's timers
   * do not keep the process alive.
   */
  onHookTimer(check: () => void): () => void;
  evaluateWorkflowHooks(): void;
  runWorkflowExitHandler(phase: WorkflowPhase): Promise<NodeStatus | undefined>;

  // ---- dag.ts
  executeDag(
    node: NodeStatus,
    template: Template,
    vars: LayeredVars,
    childInv: Invocation,
    inputs: ProcessedInputs,
  ): Promise<void>;

  // ---- metrics.ts
  emitNodeMetrics(metrics: PrometheusMetric[], node: NodeStatus, moment: "start" | "end"): void;
  /** `spec.metrics`: realtime gauges when the workflow starts running, the others when it completes. */
  emitWorkflowMetrics(moment: "start" | "end", phase?: WorkflowPhase): void;
}
