import { randomUUID } from "node:crypto";
import { SkiffError } from "../errors/index.js";
import {
  evaluateDepends,
  evaluateExpression,
  evaluateWhen,
  dependsTaskNames,
  dependenciesToDepends,
  findTags,
  substitute,
  substituteObject,
  type DependencyResult,
} from "../expr/index.js";
import type { TimerHandle } from "../interfaces/clock.js";
import type { PrometheusMetric } from "../interfaces/metrics.js";
import type { ControllerEvent } from "../interfaces/events.js";
import type { StepHandle, StepRequest, StepResult } from "../interfaces/executor.js";
import type { MemoCache } from "../interfaces/memo.js";
import type { CompiledWorkflow, ResolvedTemplate, TemplateHolder, TemplateScope } from "../spec/compiled.js";
import { nodeId as nodeIdOf, parseDuration, podName as podNameOf } from "../spec/index.js";
import type {
  Arguments,
  Artifact,
  DAGTask,
  InvocationBase,
  K8sObject,
  LifecycleHook,
  NodeFlag,
  NodePhase,
  NodeStatus,
  NodeType,
  Outputs,
  Parameter,
  RetryStrategy,
  Synchronization,
  Template,
  Workflow,
  WorkflowPhase,
  WorkflowStep,
} from "../spec/types.js";
import { templateTypeOf } from "../spec/types.js";
import { CONTROLLER_CODES } from "./codes.js";
import {
  computeProgress,
  displayNameOf,
  isCompleted,
  isExecutable,
  isFailedOrError,
  isFulfilled,
  outboundNodes,
} from "./graph.js";
import { InMemoryMemoCache, Limiter, LimiterClosed, defaultSyncManager, type LockRequest } from "./limits.js";
import type { SyncManager } from "./limits.js";
import { expandSequence, loopIndexOf, parseWithParam, toLoopItems, type LoopItem } from "./loops.js";
import { metricDefinitions, nodeMetricScope, reportMetricsError } from "./metrics.js";
import { TemplateResolver } from "./stored.js";
import type { ControllerOptions } from "./types.js";
import { LayeredVars, rfc3339, strftimeParts } from "./vars.js";
import {
  continues,
  hasLocation,
  locationOf,
  stripLocation,
  durationSeconds,
  goTime,
  isTransient,
  humanizeDuration,
  matchesSelector,
} from "./support.js";

const C = CONTROLLER_CODES;
const MAX_DEPTH = 100;
const FAIL_FAST_MESSAGE = "template has failed or errored children and failFast enabled";
const DEADLINE_MESSAGE = "Step exceeded its deadline";
const POD_DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline";
/** Argo's message for a pod that is gone without having been seen to finish. */
const POD_DELETED_MESSAGE = "pod deleted";
const ARTIFACT_REF = /\.outputs\.artifacts\./;
/**
 * How often hook expressions are evaluated again while nothing changes. Argo evaluates them on every
 * reconcile and requeues a running workflow every 10 s, so an expression that turns true with time
 * (`workflow.duration`, a step Running for a while) fires within that period.
 */
export const HOOK_REEVALUATION_MS = 10_000;

/** Where a template is being invoked from: the boundary, scope and flags that shape its node. */
interface Invocation {
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
interface Boundary {
  node: NodeStatus;
  template: Template;
  limiter: Limiter | undefined;
  failFast: boolean;
  tripped: boolean;
  daemons: Set<RunningPod>;
}

interface RunningPod {
  node: NodeStatus;
  handle: StepHandle;
  onExit: boolean;
  daemon: boolean;
  /** Set when the controller killed the step; the final phase/message come from here. */
  killed?: { phase: NodePhase; message: string };
}

interface ProcessedInputs {
  parameters: Parameter[];
  artifacts: Artifact[];
}

/** Sibling results of a steps/DAG invocation (`steps.X.*` / `tasks.X.*`) plus the artifacts they produced. */
class SiblingScope {
  readonly vars: LayeredVars;
  readonly artifacts = new Map<string, Artifact | null>();

  constructor(
    readonly prefix: "steps" | "tasks",
    parent: ReadonlyMap<string, string | null>,
    readonly templateScope: TemplateScope,
  ) {
    this.vars = new LayeredVars(parent);
  }
}

interface SuspendWaiter {
  node: NodeStatus;
  resolve: (outcome: { phase: NodePhase; message?: string }) => void;
  timer?: TimerHandle;
}

/** Thrown inside a node's execution to end it with a phase and message. */
class NodeOutcome extends Error {
  constructor(
    readonly phase: NodePhase,
    message: string,
  ) {
    super(message);
  }
}

const iso = (ms: number): string => rfc3339(ms);

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function nodeTypeOfTemplate(t: Template): NodeType {
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

function holderTemplateName(h: TemplateHolder): string | undefined {
  return h.template ?? undefined;
}

/** `a(0)`, `a(1)`: attempt index of a retried node name. */
function attemptName(name: string, k: number): string {
  return `${name}(${k})`;
}

/**
 * Argo's hasOutputResultRef for every step of one parent template: does the template text contain
 * `<name>.outputs.result` or `['<name>'].outputs.result`? The text is scanned once per template.
 */
function resultReferences(parentJson: string): (name: string) => boolean {
  const before: string[] = [];
  const marker = ".outputs.result";
  for (let i = parentJson.indexOf(marker); i >= 0; i = parentJson.indexOf(marker, i + 1)) {
    before.push(parentJson.slice(Math.max(0, i - 300), i));
  }
  if (!before.length) return () => false;
  return (name) =>
    before.some((b) => b.endsWith(name) || b.endsWith(`['${name}']`) || b.endsWith(`[\\"${name}\\"]`));
}

/**
 * Only the variables a text's simple tags name, so substitution does not index a large sibling scope for
 * every step. Falls back to all variables for expression tags or names not found.
 */
function narrowVars(
  text: string,
  vars: ReadonlyMap<string, string | null>,
): ReadonlyMap<string, string | null> {
  const out = new Map<string, string | null>();
  for (const tag of findTags(text)) {
    if (tag.expression) return vars;
    const key = tag.inner.trim();
    const v = vars.get(key);
    if (v === undefined) {
      if (!vars.has(key)) return vars;
    }
    out.set(key, v ?? null);
  }
  return out;
}

/** The one-tag reference an argument value consists of, if it is exactly one simple tag. */
function singleReference(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /^\{\{\s*([^{}=][^{}]*?)\s*\}\}$/.exec(value);
  return m?.[1];
}

/**
 * The workflow operator: executes one workflow's node tree through the executor, keeping `status` in Argo's
 * shape. Each invocation (steps group, DAG task, retry attempt) is an async function that resolves when its
 * node is fulfilled, so a finished step starts its dependents at once and no pass re-walks the tree.
 */
export class WorkflowOperator {
  readonly wf: Workflow;
  readonly name: string;
  private readonly nodes: Record<string, NodeStatus>;
  private readonly globals = new Map<string, string | null>();
  private readonly childSets = new Map<string, Set<string>>();
  private readonly running = new Set<RunningPod>();
  /** Pod nodes the persisted status left Running or Pending, by id: the executor may still run them. */
  private readonly recovering = new Map<string, NodePhase>();
  private readonly suspends = new Set<SuspendWaiter>();
  private readonly waitingLocks = new Map<string, { node: NodeStatus; cancel: (e: Error) => void }>();
  private readonly backoffs = new Set<{ node: NodeStatus; cancel: () => void }>();
  private readonly phaseListeners = new Map<string, (() => void)[]>();
  private readonly workflowLimiter: Limiter | undefined;
  private readonly memo: MemoCache;
  private readonly sync: SyncManager;
  private readonly namespace: string;
  private shutdown: "" | "Stop" | "Terminate" = "";
  private cancelWorkflowLock: ((e: Error) => void) | undefined;
  /** Supplied suspend outputs set through `setOutputParameters` (Argo drops their valueFrom then). */
  private readonly suppliedSet = new Set<string>();
  private deadline: number | undefined;
  private deadlineExceeded = false;
  private deadlineTimer: TimerHandle | undefined;
  private suspended = false;
  private suspendWaiters: (() => void)[] = [];
  private execDone = 0;
  private execTotal = 0;
  private dirty = false;
  private flushScheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private putQueued = false;
  /** Nodes changed since the last put (ids), so the store writes those only; the first put is whole. */
  private readonly changedNodes = new Set<string>();
  /** Nodes not fulfilled yet: their fields change in many places, so every put carries them. */
  private readonly activeNodes = new Set<string>();
  private wholePut = true;
  private finished = false;
  private wfHookRuns: Promise<unknown>[] = [];
  private wfHooksFired = new Set<string>();
  private readonly startedAtMs: number;
  /** Hook checks the re-evaluation timer runs (workflow hooks, and hooks of steps not fulfilled yet). */
  private readonly hookChecks = new Set<() => void>();
  private hookTimer: TimerHandle | undefined;
  private readonly templates: TemplateResolver;
  private readonly creationMs: number;

  constructor(
    private readonly compiled: CompiledWorkflow,
    private readonly options: ControllerOptions,
    persisted?: Workflow,
  ) {
    const base = persisted ?? compiled.workflow;
    this.wf = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: structuredClone(base.metadata),
      // A resumed workflowTemplateRef run keeps the spec it started with (Argo's storedWorkflowTemplateSpec).
      spec: structuredClone(persisted?.status?.storedWorkflowTemplateSpec ?? compiled.workflow.spec),
      status: persisted?.status ? structuredClone(persisted.status) : { phase: "" },
    };
    this.name = this.wf.metadata.name ?? "workflow";
    this.namespace = this.wf.metadata.namespace ?? "default";
    this.wf.metadata.uid ??= randomUUID();
    const now = options.clock.now();
    this.wf.metadata.creationTimestamp ??= iso(now);
    this.creationMs = Date.parse(this.wf.metadata.creationTimestamp) || now;
    const status = this.wf.status as NonNullable<Workflow["status"]>;
    status.nodes ??= {};
    this.nodes = status.nodes;
    this.startedAtMs = status.startedAt ? Date.parse(status.startedAt) : now;
    for (const n of Object.values(this.nodes)) {
      if (n.children?.length) this.childSets.set(n.id, new Set(n.children));
      if (!isFulfilled(n)) this.activeNodes.add(n.id);
      if (n.type === "Pod" && (n.phase === "Running" || n.phase === "Pending")) {
        this.recovering.set(n.id, n.phase);
        // A daemon that was up counts as fulfilled; one that can be re-attached is followed again instead,
        // so that it is killed when its scope ends.
        if (n.daemoned && options.executor.attach) delete n.daemoned;
      }
      if (isExecutable(n.type)) {
        this.execTotal++;
        if (n.phase === "Succeeded" || n.phase === "Skipped" || n.phase === "Omitted") this.execDone++;
      }
    }
    const par = this.wf.spec.parallelism;
    this.workflowLimiter = typeof par === "number" && par > 0 ? new Limiter(par) : undefined;
    this.memo = options.memoCache ?? new InMemoryMemoCache();
    this.sync = options.synchronization ?? defaultSyncManager;
    if (this.wf.spec.shutdown) this.shutdown = this.wf.spec.shutdown;
    if (this.wf.spec.suspend) this.suspended = true;
    const specIsStored = persisted?.status?.storedWorkflowTemplateSpec !== undefined;
    if (this.wf.spec.workflowTemplateRef && !specIsStored)
      status.storedWorkflowTemplateSpec = structuredClone(compiled.workflow.spec);
    this.templates = new TemplateResolver(compiled, status, this.wf.spec, specIsStored, () => this.touch());
  }

  // ---------------------------------------------------------------- public control

  snapshot(): Workflow {
    const status = this.wf.status as NonNullable<Workflow["status"]>;
    status.progress = computeProgress(this.nodes);
    return structuredClone(this.wf);
  }

  stop(strategy: "Stop" | "Terminate"): void {
    if (this.finished || this.shutdown) return;
    this.shutdown = strategy;
    this.wf.spec.shutdown = strategy;
    const message = `Stopped with strategy '${strategy}'`;
    for (const pod of [...this.running]) {
      if (pod.onExit && strategy === "Stop") continue;
      // HTTP nodes have no pod in Argo: they are failed like suspend nodes.
      const reason = pod.node.type === "HTTP" ? message : `workflow shutdown with strategy:  ${strategy}`;
      this.killPod(pod, "Failed", reason);
    }
    for (const s of [...this.suspends]) s.resolve({ phase: "Failed", message });
    for (const w of [...this.waitingLocks.values()]) w.cancel(new NodeOutcome("Failed", message));
    for (const b of [...this.backoffs]) b.cancel();
    this.cancelWorkflowLock?.(new NodeOutcome("Failed", message));
    if (this.suspended) this.resumeAll();
    this.touch();
  }

  suspend(): void {
    if (this.finished) return;
    this.suspended = true;
    this.wf.spec.suspend = true;
    this.touch();
  }

  resume(nodeFieldSelector?: string): void {
    if (nodeFieldSelector === undefined) {
      this.resumeAll();
    }
    const matches = [...this.suspends].filter(
      (s) => nodeFieldSelector === undefined || matchesSelector(s.node, nodeFieldSelector),
    );
    // Like `argo resume`, refuse before resuming anything when a supplied output would stay unset.
    for (const s of matches) this.checkSuppliedDefaults(s.node);
    for (const s of matches) {
      this.fillSuppliedDefaults(s.node);
      s.resolve({ phase: "Succeeded" });
    }
    this.touch();
  }

  setOutputParameters(nodeSelector: string, values: Record<string, string>): void {
    const nodes = Object.values(this.nodes).filter(
      (n) => n.type === "Suspend" && matchesSelector(n, nodeSelector),
    );
    if (!nodes.length) {
      throw new SkiffError(C["SKF-CTRL-009"], `no suspend node matches '${nodeSelector}'`);
    }
    for (const node of nodes) {
      for (const [name, value] of Object.entries(values)) {
        const p = node.outputs?.parameters?.find((x) => x.name === name);
        const key = `${node.id}/${name}`;
        if (!p || !(p.valueFrom?.supplied || this.suppliedSet.has(key))) {
          throw new SkiffError(
            C["SKF-CTRL-010"],
            `node ${node.displayName} has no supplied output parameter '${name}'`,
          );
        }
        p.value = value;
        delete p.valueFrom;
        this.suppliedSet.add(key);
        if (p.globalName) this.exportGlobalParameter(p.globalName, value);
      }
    }
    this.touch();
  }

  // ---------------------------------------------------------------- main flow

  async run(): Promise<Workflow> {
    const status = this.wf.status as NonNullable<Workflow["status"]>;
    try {
      this.initGlobals();
    } catch (e) {
      return this.finish("Failed", `failed to set global parameters: ${messageOf(e)}`);
    }
    let wfLocks: LockRequest[];
    try {
      wfLocks = this.lockRequests(this.wf.spec.synchronization, this.globalVars());
    } catch (e) {
      return this.finish("Failed", `Failed to acquire the synchronization lock. ${messageOf(e)}`);
    }
    const wfHolder = `${this.namespace}/${this.name}`;
    if (wfLocks.length) {
      if (!this.sync.tryAcquire(wfHolder, wfLocks)) {
        const blocking = this.sync.blockingLock(wfHolder, wfLocks);
        this.setWorkflowPhase("Pending", blocking ? this.lockMessage(blocking) : undefined);
        this.cancelWorkflowLock = (e) => this.sync.cancel(wfHolder, e);
        try {
          await this.sync.acquire(wfHolder, wfLocks);
        } catch {
          // Stopped while waiting for the lock: nothing ran.
          return await this.finish("Failed", `Stopped with strategy '${this.shutdown || "Stop"}'`);
        } finally {
          this.cancelWorkflowLock = undefined;
        }
        status.message = undefined;
      }
    }
    try {
      status.startedAt ??= iso(this.options.clock.now());
      this.setWorkflowPhase("Running");
      this.emit({ type: "workflow-started", workflow: this.wf });
      this.emitWorkflowMetrics("start");
      const ads = this.wf.spec.activeDeadlineSeconds;
      if (typeof ads === "number") {
        this.deadline = Math.floor(Date.parse(status.startedAt) / 1000) * 1000 + ads * 1000;
        const remaining = this.deadline - this.options.clock.now();
        if (remaining <= 0) this.onDeadline();
        else this.deadlineTimer = this.options.clock.setTimer(remaining, () => this.onDeadline());
      }
      this.evaluateWorkflowHooks();
      const offWorkflowHooks = this.hasTimedWorkflowHooks()
        ? this.onHookTimer(() => {
            if (this.wf.status?.phase === "Running") this.evaluateWorkflowHooks();
          })
        : undefined;
      const root = await this.executeTemplate(
        this.name,
        { template: this.compiled.entrypoint },
        this.wf.spec.arguments ?? {},
        {
          boundaryID: "",
          boundary: undefined,
          scope: this.compiled.rootScope,
          depth: 0,
          onExit: false,
          captureResult: false,
        },
      );
      offWorkflowHooks?.();
      await this.killAllDaemons();
      const rootPhase = root?.phase ?? "Error";
      const mapped: WorkflowPhase =
        rootPhase === "Failed" ? "Failed" : rootPhase === "Error" ? "Error" : "Succeeded";
      this.globals.set("workflow.status", mapped);
      this.evaluateWorkflowHooks();
      for (let seen = 0; seen < this.wfHookRuns.length;) {
        const batch = this.wfHookRuns.slice(seen);
        seen = this.wfHookRuns.length;
        await Promise.all(batch);
      }
      let phase = mapped;
      let message: string | undefined = root?.message;
      const entryError = root ? this.setupErrors.get(root.id) : undefined;
      if (entryError !== undefined && root?.phase === "Error") {
        // Argo: an entry template that cannot be executed errors the workflow with this wrapper.
        message = `error in entry template execution: ${entryError}`;
      }
      if (isFailedOrError(rootPhase) && this.shutdown) message = `Stopped with strategy '${this.shutdown}'`;
      const exitNode = await this.runWorkflowExitHandler(mapped);
      const exitError = exitNode ? this.setupErrors.get(exitNode.id) : undefined;
      if (exitError !== undefined) {
        return await this.finish("Error", `error in exit template execution : ${exitError}`);
      }
      if (exitNode && phase === "Succeeded" && isFailedOrError(exitNode.phase)) {
        phase = exitNode.phase === "Error" ? "Error" : "Failed";
        message = exitNode.message;
      }
      return await this.finish(phase, message);
    } catch (e) {
      for (const n of Object.values(this.nodes)) {
        if (n.id === this.name && !isFulfilled(n)) this.markPhase(n, "Error", "Workflow operation error");
      }
      return await this.finish("Error", `error in entry template execution: ${messageOf(e)}`);
    } finally {
      if (wfLocks.length) this.sync.release(wfHolder, wfLocks);
    }
  }

  private async finish(phase: WorkflowPhase, message: string | undefined): Promise<Workflow> {
    const status = this.wf.status as NonNullable<Workflow["status"]>;
    if (this.deadlineTimer) this.options.clock.clearTimer(this.deadlineTimer);
    if (this.hookTimer) this.options.clock.clearTimer(this.hookTimer);
    this.hookTimer = undefined;
    this.hookChecks.clear();
    this.finished = true;
    status.finishedAt = iso(this.options.clock.now());
    if (message) status.message = message;
    else delete status.message;
    status.progress = computeProgress(this.nodes);
    // computeProgress sets the progress of every non-leaf node: the final state is put whole.
    this.wholePut = true;
    status.conditions = [
      ...(status.conditions ?? []).filter((c) => c.type !== "Completed"),
      { type: "Completed", status: "True" },
    ];
    this.setWorkflowPhase(phase);
    this.emitWorkflowMetrics("end", phase);
    this.touch();
    await this.flush();
    await this.flushing;
    this.emit({ type: "workflow-finished", workflow: this.wf });
    return this.wf;
  }

  private setWorkflowPhase(phase: WorkflowPhase, message?: string): void {
    const status = this.wf.status as NonNullable<Workflow["status"]>;
    const changed = status.phase !== phase;
    status.phase = phase;
    if (message !== undefined) status.message = message;
    this.wf.metadata.labels = {
      ...this.wf.metadata.labels,
      "workflows.argoproj.io/phase": phase,
      "workflows.argoproj.io/completed": String(
        phase === "Succeeded" || phase === "Failed" || phase === "Error",
      ),
    };
    if (!this.finished || phase === "Pending") this.globals.set("workflow.status", phase);
    if (changed) this.touch();
  }

  private onDeadline(): void {
    this.deadlineExceeded = true;
    for (const pod of [...this.running]) {
      if (!pod.onExit) this.killPod(pod, "Failed", DEADLINE_MESSAGE);
    }
    for (const s of [...this.suspends]) s.resolve({ phase: "Failed", message: DEADLINE_MESSAGE });
    for (const w of [...this.waitingLocks.values()]) w.cancel(new NodeOutcome("Failed", DEADLINE_MESSAGE));
    for (const b of [...this.backoffs]) b.cancel();
  }

  private resumeAll(): void {
    this.suspended = false;
    delete this.wf.spec.suspend;
    for (const w of this.suspendWaiters.splice(0)) w();
  }

  /** Waits while `spec.suspend` is set: no new nodes are created then. */
  private async whileSuspended(): Promise<void> {
    while (this.suspended && !this.shutdown) {
      await new Promise<void>((r) => this.suspendWaiters.push(r));
    }
  }

  // ---------------------------------------------------------------- globals

  private initGlobals(): void {
    const g = this.globals;
    const wf = this.wf;
    g.set("workflow.name", this.name);
    g.set("workflow.namespace", this.namespace);
    g.set("workflow.uid", wf.metadata.uid ?? "");
    g.set("workflow.mainEntrypoint", this.compiled.entrypoint);
    g.set("workflow.serviceAccountName", wf.spec.serviceAccountName ?? "");
    if (wf.spec.priority !== undefined) g.set("workflow.priority", String(wf.spec.priority));
    g.set("workflow.creationTimestamp", iso(this.creationMs));
    g.set("workflow.creationTimestamp.RFC3339", iso(this.creationMs));
    for (const [k, v] of Object.entries(strftimeParts(this.creationMs)))
      g.set(`workflow.creationTimestamp.${k}`, v);
    const scheduled = wf.metadata.annotations?.["workflows.argoproj.io/scheduled-time"];
    if (scheduled) g.set("workflow.scheduledTime", scheduled);
    const params: Parameter[] = [];
    for (const p of wf.spec.arguments?.parameters ?? []) {
      let value = p.value;
      if (value === undefined && p.valueFrom?.configMapKeyRef) {
        const { name, key } = p.valueFrom.configMapKeyRef;
        const cm = this.compiled.configMaps.get(name);
        value = cm?.data?.[key] ?? p.valueFrom.default;
        if (value === undefined) {
          const why = cm
            ? `ConfigMap '${name}' does not have the key '${key}'`
            : `ConfigMap '${name}' does not exist`;
          throw new SkiffError(
            C["SKF-CTRL-005"],
            `failed to set global parameter ${p.name} from configmap with name ${name} and key ${key}: ${why}`,
          );
        }
      }
      if (value === undefined && p.default !== undefined) value = p.default;
      if (value === undefined) {
        throw new SkiffError(
          C["SKF-CTRL-005"],
          `either value or valueFrom must be specified in order to set global parameter ${p.name}`,
        );
      }
      params.push({ ...p, value });
      g.set(`workflow.parameters.${p.name}`, value);
    }
    g.set("workflow.parameters", JSON.stringify(params));
    g.set("workflow.parameters.json", JSON.stringify(params));
    const labels = wf.metadata.labels ?? {};
    const annotations = wf.metadata.annotations ?? {};
    for (const [k, v] of Object.entries(labels)) g.set(`workflow.labels.${k}`, v);
    for (const [k, v] of Object.entries(annotations)) g.set(`workflow.annotations.${k}`, v);
    g.set("workflow.labels", JSON.stringify(labels));
    g.set("workflow.labels.json", JSON.stringify(labels));
    g.set("workflow.annotations", JSON.stringify(annotations));
    g.set("workflow.annotations.json", JSON.stringify(annotations));
    g.set("workflow.status", (this.wf.status?.phase as string | undefined) ?? "");
    g.set("workflow.duration", "0.000000");
    for (const p of this.wf.status?.outputs?.parameters ?? []) {
      if (p.value !== undefined) g.set(`workflow.outputs.parameters.${p.name}`, p.value);
    }
  }

  /** The globals, with `workflow.duration` brought up to date. */
  private globalVars(): Map<string, string | null> {
    const secs = (this.options.clock.now() - this.startedAtMs) / 1000;
    this.globals.set("workflow.duration", secs.toFixed(6));
    return this.globals;
  }

  private configMapValue(name: string, key: string): string | undefined {
    return this.compiled.configMaps.get(name)?.data?.[key];
  }

  private exportGlobalParameter(name: string, value: string): void {
    const status = this.wf.status as NonNullable<Workflow["status"]>;
    status.outputs ??= {};
    const list = (status.outputs.parameters ??= []);
    const existing = list.find((p) => p.name === name);
    if (existing) existing.value = value;
    else list.push({ name, value });
    this.globals.set(`workflow.outputs.parameters.${name}`, value);
  }

  private exportGlobalArtifact(name: string, artifact: Artifact): void {
    const status = this.wf.status as NonNullable<Workflow["status"]>;
    status.outputs ??= {};
    const list = (status.outputs.artifacts ??= []);
    const copy = { ...artifact, name };
    delete copy.globalName;
    const i = list.findIndex((a) => a.name === name);
    if (i >= 0) list[i] = copy;
    else list.push(copy);
    this.globalArtifacts.set(`workflow.outputs.artifacts.${name}`, copy);
  }

  private readonly globalArtifacts = new Map<string, Artifact>();
  /** Nodes whose template could not even be set up (Argo's executeTemplate returning an error), by ID. */
  private readonly setupErrors = new Map<string, string>();

  private exportOutputs(outputs: Outputs | undefined, vars?: ReadonlyMap<string, string | null>): void {
    for (const p of outputs?.parameters ?? []) {
      if (!p.globalName || p.value === undefined) continue;
      const name = vars ? substitute(p.globalName, vars) : p.globalName;
      this.exportGlobalParameter(name, p.value);
    }
    for (const a of outputs?.artifacts ?? []) {
      if (!a.globalName) continue;
      const name = vars ? substitute(a.globalName, vars) : a.globalName;
      this.exportGlobalArtifact(name, a);
    }
  }

  // ---------------------------------------------------------------- node records

  /**
   * The volumes a step's mounts may name, as Argo assembles the pod: `spec.volumes`, one claim per
   * `spec.volumeClaimTemplates` entry (named `<workflow>-<name>` like the PVC Argo creates), then the
   * template's own volumes, which win on a name clash.
   */
  private podVolumes(template: Template): K8sObject[] {
    const byName = new Map<string, K8sObject>();
    const add = (v: unknown) => {
      if (v && typeof v === "object" && typeof (v as K8sObject).name === "string")
        byName.set((v as K8sObject).name as string, v as K8sObject);
    };
    for (const v of this.wf.spec.volumes ?? []) add(v);
    for (const c of this.wf.spec.volumeClaimTemplates ?? []) {
      const name = (c.metadata as { name?: unknown } | undefined)?.name;
      if (typeof name === "string")
        add({ name, persistentVolumeClaim: { claimName: `${this.name}-${name}` } });
    }
    for (const v of template.volumes ?? []) add(v);
    return [...byName.values()];
  }

  private idOf(name: string): string {
    return nodeIdOf(this.name, name);
  }

  private nodeByName(name: string): NodeStatus | undefined {
    return this.nodes[this.idOf(name)];
  }

  private createNode(init: {
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
  }): NodeStatus {
    const id = this.idOf(init.name);
    const existing = this.nodes[id];
    if (existing) {
      if (existing.type !== init.type) existing.type = init.type;
      if (existing.phase !== init.phase) this.markPhase(existing, init.phase, init.message);
      return existing;
    }
    const now = iso(this.options.clock.now());
    const boundary = init.boundaryID ? this.nodes[init.boundaryID] : undefined;
    const node: NodeStatus = {
      id,
      name: init.name,
      displayName: init.displayName ?? displayNameOf(init.name, boundary?.name),
      type: init.type,
      phase: init.phase,
    };
    if (init.templateName) node.templateName = init.templateName;
    if (init.templateRef) node.templateRef = { ...init.templateRef };
    if (init.scope) node.templateScope = this.scopeText(init.scope);
    if (init.boundaryID) node.boundaryID = init.boundaryID;
    if (init.message) node.message = init.message;
    node.startedAt = now;
    if (isFulfilled(node)) node.finishedAt = now;
    if (init.flag && (init.flag.hooked || init.flag.retried)) node.nodeFlag = { ...init.flag };
    if (init.inputs && (init.inputs.parameters.length || init.inputs.artifacts.length)) {
      node.inputs = {};
      if (init.inputs.parameters.length) node.inputs.parameters = init.inputs.parameters;
      if (init.inputs.artifacts.length) node.inputs.artifacts = init.inputs.artifacts;
    }
    if (isExecutable(node.type)) {
      this.execTotal++;
      const complete = node.phase === "Succeeded" || node.phase === "Skipped" || node.phase === "Omitted";
      if (complete) this.execDone++;
      node.progress = complete ? "1/1" : "0/1";
      this.updateWorkflowProgress();
    }
    this.nodes[id] = node;
    this.emit({ type: "node-updated", workflow: this.wf, node });
    this.touch(node);
    return node;
  }

  private scopeText(scope: TemplateScope): string {
    return scope.id === "" ? `local/${this.name}` : scope.id;
  }

  private markPhase(node: NodeStatus, phase: NodePhase, message?: string): void {
    const previous = node.phase;
    if (previous === phase && (message === undefined || message === node.message)) return;
    const wasComplete = isExecutable(node.type) && node.progress === "1/1";
    node.phase = phase;
    if (message !== undefined) {
      if (message) node.message = message;
      else delete node.message;
    }
    if (isFulfilled(node) && !node.finishedAt) node.finishedAt = iso(this.options.clock.now());
    if (!isFulfilled(node)) delete node.finishedAt;
    if (isExecutable(node.type)) {
      const complete = phase === "Succeeded" || phase === "Skipped" || phase === "Omitted";
      if (complete && !wasComplete) {
        this.execDone++;
        node.progress = "1/1";
      } else if (!complete && wasComplete) {
        this.execDone--;
        node.progress = "0/1";
      }
      this.updateWorkflowProgress();
    }
    if (previous !== phase) {
      this.emit({ type: "node-updated", workflow: this.wf, node, previousPhase: previous });
      const listeners = this.phaseListeners.get(node.id);
      if (listeners) for (const l of listeners) l();
    }
    this.touch(node);
  }

  private updateWorkflowProgress(): void {
    (this.wf.status as NonNullable<Workflow["status"]>).progress = `${this.execDone}/${this.execTotal}`;
  }

  private addChild(parent: NodeStatus, childId: string): void {
    let set = this.childSets.get(parent.id);
    if (!set) {
      set = new Set(parent.children ?? []);
      this.childSets.set(parent.id, set);
    }
    if (set.has(childId)) return;
    set.add(childId);
    (parent.children ??= []).push(childId);
    this.touch(parent);
  }

  private onPhaseChange(node: NodeStatus, fn: () => void): () => void {
    const list = this.phaseListeners.get(node.id) ?? [];
    list.push(fn);
    this.phaseListeners.set(node.id, list);
    return () => {
      const l = this.phaseListeners.get(node.id);
      if (!l) return;
      const i = l.indexOf(fn);
      if (i >= 0) l.splice(i, 1);
      if (!l.length) this.phaseListeners.delete(node.id);
    };
  }

  /** A node that could not be set up: created (or turned) into an Error node with the message. */
  private errorNode(
    name: string,
    inv: Invocation,
    message: string,
    type: NodeType = "Skipped",
    holder?: TemplateHolder,
  ): NodeStatus {
    const existing = this.nodeByName(name);
    if (existing) {
      this.setupErrors.set(existing.id, message);
      this.markPhase(existing, "Error", message);
      return existing;
    }
    this.setupErrors.set(this.idOf(name), message);
    const node = this.createNode({
      name,
      type,
      phase: "Error",
      boundaryID: inv.boundaryID,
      templateName: holder ? holderTemplateName(holder) : undefined,
      templateRef: holder?.templateRef,
      scope: inv.scope,
      message,
      flag: inv.flag,
    });
    inv.onCreate?.(node);
    return node;
  }

  // ---------------------------------------------------------------- events & persistence

  private emit(event: ControllerEvent): void {
    const l = this.options.onEvent;
    if (!l) return;
    try {
      l(event);
    } catch {
      // A reporter failing must never stall or fail a run.
    }
  }

  /** Marks the status (and `node`) changed; transitions within one macrotask are persisted together. */
  private touch(node?: NodeStatus): void {
    if (node) {
      this.changedNodes.add(node.id);
      if (isFulfilled(node)) this.activeNodes.delete(node.id);
      else this.activeNodes.add(node.id);
    }
    this.dirty = true;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private flush(): Promise<void> {
    if (!this.dirty) return this.flushing;
    this.dirty = false;
    // Workflow-level hooks are re-evaluated once per batch of transitions, as Argo does per reconcile.
    if (!this.finished && this.wf.spec.hooks && this.wf.status?.phase === "Running")
      this.evaluateWorkflowHooks();
    const store = this.options.store;
    this.emit({ type: "workflow-updated", workflow: this.wf });
    // At most one put waits behind the one in flight: it writes the latest state when its turn comes, so a
    // slow store sees fewer, larger batches instead of a queue of stale copies.
    if (store && !this.putQueued) {
      this.putQueued = true;
      this.flushing = this.flushing.then(async () => {
        this.putQueued = false;
        for (const id of this.activeNodes) this.changedNodes.add(id);
        const changedNodes = this.wholePut ? undefined : [...this.changedNodes];
        this.wholePut = false;
        this.changedNodes.clear();
        try {
          await store.put(this.wf, changedNodes && { changedNodes });
        } catch {
          // Persistence failures are the store's to report; the run goes on, and the next put is whole.
          this.wholePut = true;
        }
      });
    }
    return this.flushing;
  }

  // ---------------------------------------------------------------- template execution

  /**
   * Executes the template a holder names as node `nodeName`. Resolves when the node is fulfilled (a ready
   * daemon counts), or `undefined` when it was never created (its boundary failed fast, or shutdown).
   * The template's custom metrics are emitted as Argo does: realtime gauges when the node is created, the
   * others once it completed in this run.
   */
  private async executeTemplate(
    nodeName: string,
    holder: TemplateHolder,
    args: Arguments,
    inv: Invocation,
    absentRefs: Record<string, string> = {},
  ): Promise<NodeStatus | undefined> {
    let metrics: PrometheusMetric[] = [];
    if (this.options.metrics) {
      try {
        metrics = metricDefinitions(this.templates.resolve(holder, inv.scope).template.metrics);
      } catch {
        // An unresolvable template becomes an Error node below; it has no metrics.
      }
    }
    const before = this.nodeByName(nodeName);
    if (metrics.length === 0 || (before && isFulfilled(before)))
      return this.runTemplate(nodeName, holder, args, inv, absentRefs);
    let started = false;
    const start = (n: NodeStatus) => {
      if (started) return;
      started = true;
      this.emitNodeMetrics(metrics, n, "start");
    };
    if (before) start(before);
    const onCreate = inv.onCreate;
    const node = await this.runTemplate(
      nodeName,
      holder,
      args,
      {
        ...inv,
        onCreate: (n) => {
          onCreate?.(n);
          start(n);
        },
      },
      absentRefs,
    );
    if (node && isFulfilled(node)) this.emitNodeMetrics(metrics, node, "end");
    return node;
  }

  private emitNodeMetrics(metrics: PrometheusMetric[], node: NodeStatus, moment: "start" | "end"): void {
    const sink = this.options.metrics;
    if (!sink) return;
    const { vars, realtime } = nodeMetricScope(node, this.globalVars(), this.options.clock);
    for (const problem of sink.emitCustom(metrics, vars, realtime, moment)) this.metricsError(problem);
  }

  /** `spec.metrics`: realtime gauges when the workflow starts running, the others when it completes. */
  private emitWorkflowMetrics(moment: "start" | "end", phase?: WorkflowPhase): void {
    const sink = this.options.metrics;
    const metrics = metricDefinitions(this.wf.spec.metrics);
    if (!sink || metrics.length === 0) return;
    const vars = new LayeredVars(this.globalVars());
    if (phase) vars.set("workflow.status", phase);
    const started = this.startedAtMs;
    const finishedAt = () => Date.parse(this.wf.status?.finishedAt ?? "") || this.options.clock.now();
    const realtime = { "workflow.duration": () => Math.max(0, finishedAt() - started) / 1000 };
    for (const problem of sink.emitCustom(metrics, vars, realtime, moment)) this.metricsError(problem);
  }

  private metricsError(message: string): void {
    reportMetricsError(this.wf.status as NonNullable<Workflow["status"]>, message);
    this.touch();
  }

  private async runTemplate(
    nodeName: string,
    holder: TemplateHolder,
    args: Arguments,
    inv: Invocation,
    absentRefs: Record<string, string>,
  ): Promise<NodeStatus | undefined> {
    const existing = this.nodeByName(nodeName);
    if (existing && isFulfilled(existing) && !(existing.type === "Pod" && existing.daemoned)) {
      inv.onCreate?.(existing);
      return existing;
    }
    if (this.suspended) await this.whileSuspended();
    let rt: ResolvedTemplate;
    try {
      rt = this.templates.resolve(holder, inv.scope);
    } catch (e) {
      return this.errorNode(nodeName, inv, messageOf(e), "Skipped", holder);
    }
    if (inv.depth > MAX_DEPTH) {
      return this.errorNode(
        nodeName,
        inv,
        "Maximum recursion depth exceeded. See https://argo-workflows.readthedocs.io/en/latest/scaling/#maximum-recursion-depth",
        "Skipped",
        holder,
      );
    }
    let inputs: ProcessedInputs;
    try {
      inputs = this.processInputs(rt.template, args, absentRefs);
    } catch (e) {
      return this.errorNode(nodeName, inv, messageOf(e), "Skipped", holder);
    }
    const baseVars = this.templateVars(rt, inputs, nodeName, inv);
    const template = rt.template;

    if (template.memoize) {
      let hit: NodeStatus | undefined;
      try {
        hit = await this.checkMemo(nodeName, holder, rt, inputs, baseVars, inv);
      } catch (e) {
        return this.errorNode(nodeName, inv, messageOf(e), nodeTypeOfTemplate(template), holder);
      }
      if (hit) return hit;
    }

    let retry: RetryStrategy | undefined = template.retryStrategy ?? this.wf.spec.retryStrategy;
    if (retry) {
      try {
        retry = substituteObject<RetryStrategy>(retry, baseVars);
      } catch (e) {
        return this.errorNode(nodeName, inv, messageOf(e), "Skipped", holder);
      }
      const retryNode = await this.executeRetry(nodeName, holder, rt, inputs, inv, retry as RetryStrategy);
      if (retryNode && isFulfilled(retryNode)) {
        this.exportOutputs(retryNode.outputs, this.globals);
        await this.saveMemo(retryNode, inv);
      }
      return retryNode;
    }
    return this.executeNode(nodeName, holder, rt, inputs, inv, {});
  }

  /** Builds the variables a template sees: globals, inputs, node/pod names, local names. */
  private templateVars(
    rt: ResolvedTemplate,
    inputs: ProcessedInputs,
    nodeName: string,
    inv: Invocation,
    extra?: Record<string, string>,
  ): LayeredVars {
    const v = new LayeredVars(this.globalVars());
    for (const p of inputs.parameters) v.set(`inputs.parameters.${p.name}`, p.value ?? "");
    v.set("inputs.parameters", JSON.stringify(inputs.parameters));
    for (const a of inputs.artifacts) if (a.path) v.set(`inputs.artifacts.${a.name}.path`, a.path);
    for (const a of rt.template.outputs?.artifacts ?? []) {
      if (a.path) v.set(`outputs.artifacts.${a.name}.path`, a.path);
    }
    for (const p of rt.template.outputs?.parameters ?? []) {
      if (p.valueFrom?.path) v.set(`outputs.parameters.${p.name}.path`, p.valueFrom.path);
    }
    v.set("node.name", nodeName);
    if (nodeTypeOfTemplate(rt.template) === "Pod") {
      v.set("pod.name", podNameOf(this.name, nodeName, rt.template.name ?? ""));
    }
    if (inv.local) v.set(inv.local[0], inv.local[1]);
    if (extra) for (const [k, val] of Object.entries(extra)) v.set(k, val);
    return v;
  }

  private processInputs(
    template: Template,
    args: Arguments,
    absentRefs: Record<string, string>,
  ): ProcessedInputs {
    const parameters: Parameter[] = [];
    for (const decl of template.inputs?.parameters ?? []) {
      // Argo's ProcessArgs: value or default, then the argument's value (or valueFrom), then a ConfigMap.
      const p: Parameter = { ...decl };
      // A value or default written on the template itself sees the workflow's globals (Argo substitutes
      // the whole template with them); an argument's value was substituted by its caller already.
      const own = decl.value ?? decl.default;
      let value: string | undefined = own === undefined ? undefined : substitute(own, this.globals);
      let valueFrom = decl.valueFrom;
      const arg = args.parameters?.find((a) => a.name === decl.name);
      if (arg) {
        if (arg.value !== undefined) value = arg.value;
        else if (arg.valueFrom) valueFrom = arg.valueFrom;
      }
      if (valueFrom?.configMapKeyRef) {
        const ref = substituteObject(valueFrom.configMapKeyRef, this.globals);
        const cm = this.compiled.configMaps.get(ref.name);
        const v = cm?.data?.[ref.key];
        if (v !== undefined) value = v;
        else if (valueFrom.default !== undefined) value = valueFrom.default;
        else {
          throw new SkiffError(
            C["SKF-CTRL-005"],
            `unable to retrieve inputs.parameters.${decl.name} from ConfigMap: ` +
              (cm
                ? `ConfigMap '${ref.name}' does not have the key '${ref.key}'`
                : `ConfigMap '${ref.name}' does not exist`),
          );
        }
        p.valueFrom = valueFrom;
      }
      if (value === undefined && decl.enum?.length) value = decl.enum[0];
      if (value === undefined) {
        const absent = absentRefs[decl.name];
        if (absent !== undefined) {
          throw new SkiffError(
            C["SKF-CTRL-005"],
            `inputs.parameters.${decl.name}: argument references an absent optional (${absent})`,
          );
        }
        throw new SkiffError(C["SKF-CTRL-005"], `inputs.parameters.${decl.name} was not supplied`);
      }
      p.value = value;
      if (p.valueFrom && !p.valueFrom.configMapKeyRef) delete p.valueFrom;
      parameters.push(p);
    }
    const artifacts: Artifact[] = [];
    for (const decl of template.inputs?.artifacts ?? []) {
      const arg = args.artifacts?.find((a) => a.name === decl.name);
      let art: Artifact | undefined;
      if (arg && hasLocation(arg)) {
        art = { ...stripLocation(decl), ...locationOf(arg), name: decl.name };
        if (arg.subPath && !decl.subPath) art.subPath = arg.subPath;
      } else if (hasLocation(decl)) {
        // A location written on the template (e.g. a key naming `{{workflow.name}}`) sees the globals.
        art = substituteObject({ ...decl }, this.globals);
      }
      if (!art) {
        if (decl.optional || arg?.optional) continue;
        throw new SkiffError(C["SKF-CTRL-013"], `inputs.artifacts.${decl.name} was not supplied`);
      }
      delete art.from;
      delete art.fromExpression;
      artifacts.push(art);
    }
    return { parameters, artifacts };
  }

  private async checkMemo(
    nodeName: string,
    holder: TemplateHolder,
    rt: ResolvedTemplate,
    inputs: ProcessedInputs,
    vars: LayeredVars,
    inv: Invocation,
  ): Promise<NodeStatus | undefined> {
    const memoize = rt.template.memoize;
    if (!memoize) return undefined;
    const key = substitute(memoize.key, vars);
    const cacheName = memoize.cache?.configMap.name ?? "";
    if (!/^[a-zA-Z0-9][-a-zA-Z0-9]*$/.test(key)) {
      return this.errorNode(
        nodeName,
        inv,
        `invalid memoization key '${key}'`,
        nodeTypeOfTemplate(rt.template),
        holder,
      );
    }
    const entry = await this.memo.load(cacheName, key);
    let fresh = entry !== undefined;
    if (entry && memoize.maxAge) {
      const age = this.options.clock.now() - Date.parse(entry.creationTimestamp);
      fresh = age < parseDuration(memoize.maxAge);
    }
    inv.memo = { key, cacheName };
    if (!entry || !fresh) return undefined;
    const node = this.createNode({
      name: nodeName,
      type: rt.template.retryStrategy ? "Retry" : nodeTypeOfTemplate(rt.template),
      phase: "Succeeded",
      boundaryID: inv.boundaryID,
      templateName: holderTemplateName(holder),
      templateRef: rt.templateRef,
      scope: inv.scope,
      flag: inv.flag,
      inputs,
    });
    node.outputs = structuredClone(entry.outputs);
    node.memoizationStatus = { hit: true, key, cacheName };
    entry.lastHitTimestamp = iso(this.options.clock.now());
    await this.memo.save(cacheName, key, entry);
    inv.onCreate?.(node);
    this.exportOutputs(node.outputs);
    return node;
  }

  private async saveMemo(node: NodeStatus, inv: Invocation): Promise<void> {
    if (!inv.memo) return;
    node.memoizationStatus = { hit: false, key: inv.memo.key, cacheName: inv.memo.cacheName };
    if (node.phase !== "Succeeded") return;
    const now = iso(this.options.clock.now());
    try {
      await this.memo.save(inv.memo.cacheName, inv.memo.key, {
        nodeID: node.id,
        outputs: structuredClone(node.outputs ?? {}),
        creationTimestamp: now,
        lastHitTimestamp: now,
      });
    } catch (e) {
      this.markPhase(node, "Error", messageOf(e));
    }
  }

  // ---------------------------------------------------------------- retries

  private async executeRetry(
    nodeName: string,
    holder: TemplateHolder,
    rt: ResolvedTemplate,
    inputs: ProcessedInputs,
    inv: Invocation,
    strategy: RetryStrategy,
  ): Promise<NodeStatus | undefined> {
    if (inv.boundary?.tripped) return undefined;
    const retryNode = this.createNode({
      name: nodeName,
      type: "Retry",
      phase: "Running",
      boundaryID: inv.boundaryID,
      templateName: holderTemplateName(holder),
      templateRef: rt.templateRef,
      scope: inv.scope,
      flag: inv.flag,
      inputs,
    });
    inv.onCreate?.(retryNode);
    const limit = strategy.limit === undefined ? undefined : Number(strategy.limit);
    const policy =
      strategy.retryPolicy ?? (strategy.expression && strategy.limit === undefined ? "Always" : "OnFailure");
    const backoff = strategy.backoff;
    let firstStart: number | undefined;
    let last: NodeStatus | undefined;
    for (let k = 0; ; k++) {
      const attemptInv: Invocation = {
        ...inv,
        flag: { ...(inv.flag ?? {}), retried: true },
        onCreate: (n) => this.addChild(retryNode, n.id),
        memo: undefined,
      };
      const lastRetry = last
        ? {
            "lastRetry.exitCode": last.outputs?.exitCode ?? "-1",
            "lastRetry.status": last.phase,
            "lastRetry.duration": String(durationSeconds(last)),
            "lastRetry.message": last.message ?? "",
          }
        : {
            "lastRetry.exitCode": "0",
            "lastRetry.status": "",
            "lastRetry.duration": "0",
            "lastRetry.message": "",
          };
      const attempt = await this.executeNode(attemptName(nodeName, k), holder, rt, inputs, attemptInv, {
        retries: String(k),
        ...lastRetry,
      });
      if (!attempt) {
        if (!last) {
          this.markPhase(retryNode, "Failed", FAIL_FAST_MESSAGE);
          return retryNode;
        }
        break;
      }
      last = attempt;
      firstStart ??= Date.parse(attempt.startedAt ?? "") || this.options.clock.now();
      if (attempt.daemoned && attempt.phase === "Running") {
        retryNode.daemoned = true;
        if (attempt.podIP) retryNode.podIP = attempt.podIP;
        this.onPhaseChange(attempt, () => {
          if (attempt.phase !== "Running" && attempt.phase !== "Pending") {
            this.markPhase(retryNode, attempt.phase, attempt.message ?? "");
          }
        });
        this.markPhase(retryNode, "Running");
        return retryNode;
      }
      if (attempt.phase === "Succeeded") {
        if (attempt.outputs) retryNode.outputs = structuredClone(attempt.outputs);
        if (attempt.hostNodeName) retryNode.hostNodeName = attempt.hostNodeName;
        this.markPhase(retryNode, "Succeeded", "");
        return retryNode;
      }
      const fail = (message: string) => {
        if (attempt.outputs) retryNode.outputs = structuredClone(attempt.outputs);
        this.markPhase(retryNode, attempt.phase, message);
        return retryNode;
      };
      if (this.shutdown) return fail(`Stopped with strategy '${this.shutdown}'`);
      if (this.deadlineExceeded && !inv.onExit) {
        return fail(`retry exceeded workflow deadline ${goTime(this.deadline ?? 0)}`);
      }
      let waitMs = 0;
      let timeToWait = 0;
      if (backoff) {
        const now = this.options.clock.now();
        const maxMs = backoff.maxDuration !== undefined ? parseDuration(backoff.maxDuration) : undefined;
        if (maxMs !== undefined && now > firstStart + maxMs) return fail("Max duration limit exceeded");
        if (backoff.duration === undefined || backoff.duration === "") {
          this.markPhase(retryNode, "Error", "no base duration specified for retryStrategy");
          return retryNode;
        }
        const base = parseDuration(backoff.duration);
        const factor = backoff.factor !== undefined ? Number(backoff.factor) : 0;
        // Argo: duration * factor^(attempts - 1), clipped to cap, counted from the last attempt's end.
        timeToWait = factor > 0 ? base * Math.pow(factor, k) : base;
        if (backoff.cap !== undefined && backoff.cap !== "")
          timeToWait = Math.min(timeToWait, parseDuration(backoff.cap));
        const finishedAt = Date.parse(attempt.finishedAt ?? "") || now;
        const waitingDeadline = finishedAt + timeToWait;
        if (maxMs !== undefined && waitingDeadline > firstStart + maxMs) {
          return fail("Backoff would exceed max duration limit");
        }
        waitMs = Math.max(0, waitingDeadline - now);
      }
      const retryable =
        policy === "Always"
          ? isFailedOrError(attempt.phase)
          : policy === "OnFailure"
            ? attempt.phase === "Failed"
            : policy === "OnError"
              ? attempt.phase === "Error"
              : isTransient(attempt.message);
      if (!retryable) return fail(attempt.message ?? "");
      if (limit !== undefined && k + 1 > limit) return fail("No more retries left");
      if (strategy.expression) {
        let ok: boolean;
        try {
          // Argo's buildRetryStrategyLocalScope: `retries` is the last attempt's index.
          const env = new Map<string, string | null>([
            ["retries", String(k)],
            ["lastRetry.exitCode", attempt.outputs?.exitCode ?? "-1"],
            ["lastRetry.status", attempt.phase],
            ["lastRetry.duration", String(durationSeconds(attempt))],
            ["lastRetry.message", attempt.message ?? ""],
          ]);
          ok = evaluateExpression(strategy.expression, env) === true;
        } catch (e) {
          this.markPhase(retryNode, "Error", messageOf(e));
          return retryNode;
        }
        if (!ok) return fail("retryStrategy.expression evaluated to false");
      }
      if (waitMs > 0 && limit !== undefined) {
        this.markPhase(retryNode, "Running", `Backoff for ${humanizeDuration(timeToWait)}`);
        const cancelled = await this.backoffWait(retryNode, waitMs);
        if (cancelled) {
          if (this.shutdown) return fail(`Stopped with strategy '${this.shutdown}'`);
          return fail(`retry exceeded workflow deadline ${goTime(this.deadline ?? 0)}`);
        }
        this.markPhase(retryNode, "Running", "");
      }
    }
    return retryNode;
  }

  private backoffWait(node: NodeStatus, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const entry = {
        node,
        cancel: () => {
          this.options.clock.clearTimer(timer);
          this.backoffs.delete(entry);
          resolve(true);
        },
      };
      const timer = this.options.clock.setTimer(ms, () => {
        this.backoffs.delete(entry);
        resolve(false);
      });
      this.backoffs.add(entry);
    });
  }

  // ---------------------------------------------------------------- one typed node

  private async executeNode(
    nodeName: string,
    holder: TemplateHolder,
    rt: ResolvedTemplate,
    inputs: ProcessedInputs,
    inv: Invocation,
    extraVars: Record<string, string>,
  ): Promise<NodeStatus | undefined> {
    const existing = this.nodeByName(nodeName);
    if (existing && isFulfilled(existing)) {
      inv.onCreate?.(existing);
      return existing;
    }
    const type = nodeTypeOfTemplate(rt.template);
    const boundary = inv.boundary;
    const counts = type === "Pod" || type === "Steps" || type === "DAG";
    let boundarySlot = false;
    let podSlot = false;
    const releaseSlots = () => {
      if (boundarySlot) boundary?.limiter?.release();
      if (podSlot) this.workflowLimiter?.release();
      boundarySlot = podSlot = false;
    };
    try {
      if (boundary?.tripped) return undefined;
      // Only wait when a slot is not free now, so nodes are created in step order within one pass.
      if (counts && boundary?.limiter) {
        if (!boundary.limiter.tryAcquire()) await boundary.limiter.acquire();
        boundarySlot = true;
      }
      // A node that waits for a lock does not count as an active pod (Argo), so it takes its workflow
      // slot only once it holds the lock.
      if (type === "Pod" && this.workflowLimiter && !inv.onExit && !rt.template.synchronization) {
        if (!this.workflowLimiter.tryAcquire()) await this.workflowLimiter.acquire();
        podSlot = true;
      }
      if (boundary?.tripped) {
        releaseSlots();
        return undefined;
      }
    } catch (e) {
      releaseSlots();
      if (e instanceof LimiterClosed) return undefined;
      throw e;
    }
    if (this.suspended) await this.whileSuspended();

    const node = this.createNode({
      name: nodeName,
      type,
      phase: type === "Steps" || type === "DAG" ? "Running" : "Pending",
      boundaryID: inv.boundaryID,
      templateName: holderTemplateName(holder),
      templateRef: rt.templateRef,
      scope: inv.scope,
      flag: inv.flag,
      inputs,
      ...(rt.template.metadata?.annotations?.["workflows.argoproj.io/display-name"]
        ? { displayName: rt.template.metadata.annotations["workflows.argoproj.io/display-name"] }
        : {}),
    });
    inv.onCreate?.(node);

    let locks: LockRequest[] = [];
    const holderKey = `${this.namespace}/${this.name}/${node.id}`;
    let finishedInBackground = false;
    try {
      const vars = this.templateVars(rt, inputs, nodeName, inv, extraVars);
      locks = this.lockRequests(rt.template.synchronization, vars);
      const pendingAt = this.pendingDeadline(node, rt.template, vars);
      if (locks.length) await this.acquireNodeLocks(node, holderKey, locks, pendingAt);
      if (type === "Pod" && this.workflowLimiter && !inv.onExit && !podSlot) {
        const limiter = this.workflowLimiter;
        if (!limiter.tryAcquire())
          await this.untilPendingDeadline(limiter.acquire(), pendingAt, () => limiter.release());
        podSlot = true;
      }
      let template: Template;
      try {
        template = substituteObject(rt.template, vars);
      } catch (e) {
        this.setupErrors.set(node.id, messageOf(e));
        throw new NodeOutcome("Error", messageOf(e));
      }
      const childInv: Invocation = {
        boundaryID: node.id,
        boundary: undefined,
        scope: rt.scope,
        depth: inv.depth + 1,
        onExit: inv.onExit,
        captureResult: false,
      };
      switch (type) {
        case "Steps":
          await this.executeSteps(node, template, vars, childInv, inputs);
          break;
        case "DAG":
          await this.executeDag(node, template, vars, childInv, inputs);
          break;
        case "Suspend":
          await this.executeSuspend(node, template, inputs);
          break;
        default: {
          const bg = await this.executeLeaf(node, template, rt, inputs, inv, releaseSlots, () => {
            if (locks.length) this.sync.release(holderKey, locks);
          });
          if (bg) finishedInBackground = true;
        }
      }
      if (!isFulfilled(node)) this.markPhase(node, "Succeeded");
    } catch (e) {
      if (e instanceof NodeOutcome) this.markPhase(node, e.phase, e.message);
      else this.markPhase(node, "Error", messageOf(e));
    } finally {
      // Trip failFast before freeing the slot, so a queued sibling does not start in between.
      if (boundary?.failFast && counts && isFailedOrError(node.phase)) this.tripFailFast(boundary);
      if (!finishedInBackground) {
        releaseSlots();
        if (locks.length) this.sync.release(holderKey, locks);
      }
    }
    this.exportOutputs(node.outputs, this.globals);
    await this.saveMemo(node, inv);
    if (boundary && boundary.failFast && isFailedOrError(node.phase) && counts) this.tripFailFast(boundary);
    return node;
  }

  private tripFailFast(boundary: Boundary): void {
    if (boundary.tripped) return;
    boundary.tripped = true;
    boundary.limiter?.close();
  }

  private lockRequests(
    sync: Synchronization | undefined,
    vars: ReadonlyMap<string, string | null>,
  ): LockRequest[] {
    if (!sync) return [];
    const out: LockRequest[] = [];
    const mutexes = [...(sync.mutexes ?? []), ...(sync.mutex ? [sync.mutex] : [])];
    for (const m of mutexes) {
      const name = substitute(m.name ?? "", vars);
      out.push({ name: `${m.namespace ?? this.namespace}/Mutex/${name}`, limit: 1 });
    }
    const semaphores = [...(sync.semaphores ?? []), ...(sync.semaphore ? [sync.semaphore] : [])];
    for (const s of semaphores) {
      if (s.configMapKeyRef) {
        const ref = substituteObject(s.configMapKeyRef, vars);
        const raw = this.configMapValue(ref.name, ref.key);
        const limit = raw === undefined ? NaN : Number(raw.trim());
        if (!Number.isInteger(limit)) {
          throw new SkiffError(
            C["SKF-CTRL-012"],
            `failed to get semaphore limit: configmap ${ref.name} key ${ref.key} ${raw === undefined ? "not found" : "is not an integer"}`,
          );
        }
        out.push({ name: `${s.namespace ?? this.namespace}/ConfigMap/${ref.name}/${ref.key}`, limit });
      } else if (s.database) {
        out.push({ name: `${s.namespace ?? this.namespace}/Database/${s.database.key}`, limit: 1 });
      }
    }
    return out;
  }

  /**
   * When a leaf node that is still Pending fails with Argo's `timeout` (§4.5): its startedAt plus the
   * template's `timeout` (which counts pending time too) or `pendingTimeout`, whichever comes first.
   */
  private pendingDeadline(
    node: NodeStatus,
    template: Template,
    vars?: ReadonlyMap<string, string | null>,
  ): number | undefined {
    const type = nodeTypeOfTemplate(template);
    if (type === "Steps" || type === "DAG" || type === "Suspend") return undefined;
    const startedAt = Date.parse(node.startedAt ?? "") || this.options.clock.now();
    let at: number | undefined;
    for (const raw of [template.timeout, template.pendingTimeout]) {
      if (!raw) continue;
      const ms = parseDuration(vars ? substitute(raw, vars) : raw);
      at = Math.min(at ?? Number.POSITIVE_INFINITY, startedAt + ms);
    }
    return at;
  }

  /**
   * Waits for what a Pending node waits on, failing it with `timeout` once `pendingAt` passes first;
   * `abandon` gives back what arrives too late (a parallelism slot, a started step).
   */
  private async untilPendingDeadline<T>(
    waiting: Promise<T>,
    pendingAt: number | undefined,
    abandon: (late: T) => void,
  ): Promise<T> {
    if (pendingAt === undefined) return waiting;
    const clock = this.options.clock;
    let timer: TimerHandle | undefined;
    let expired = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = clock.setTimer(Math.max(0, pendingAt - clock.now()), () => {
        expired = true;
        reject(new NodeOutcome("Failed", "timeout"));
      });
    });
    try {
      return await Promise.race([waiting, timeout]);
    } finally {
      if (timer) clock.clearTimer(timer);
      if (expired) void waiting.then(abandon, () => undefined);
    }
  }

  private lockMessage(lock: LockRequest): string {
    const st = this.sync.status(lock.name);
    return `Waiting for ${lock.name} lock. Lock status: ${st.free}/${st.limit || lock.limit}`;
  }

  private async acquireNodeLocks(
    node: NodeStatus,
    holder: string,
    locks: LockRequest[],
    pendingAt: number | undefined,
  ): Promise<void> {
    if (this.sync.tryAcquire(holder, locks)) return;
    const blocking = this.sync.blockingLock(holder, locks) ?? (locks[0] as LockRequest);
    node.synchronizationStatus = { waiting: blocking.name };
    this.markPhase(node, "Pending", this.lockMessage(blocking));
    const cancel = (e: Error) => this.sync.cancel(holder, e);
    this.waitingLocks.set(node.id, { node, cancel });
    // Argo's template `timeout` counts pending time too (and `pendingTimeout` only that): a node still
    // waiting when it passes fails.
    let timer: TimerHandle | undefined;
    if (pendingAt !== undefined) {
      timer = this.options.clock.setTimer(Math.max(0, pendingAt - this.options.clock.now()), () =>
        cancel(new NodeOutcome("Failed", "timeout")),
      );
    }
    try {
      await this.sync.acquire(holder, locks);
    } finally {
      if (timer) this.options.clock.clearTimer(timer);
      this.waitingLocks.delete(node.id);
      delete node.synchronizationStatus;
    }
    this.markPhase(node, node.phase, "");
  }

  // ---------------------------------------------------------------- leaves

  /** Runs a pod-like node. Returns true when the node goes on in the background (a ready daemon). */
  private async executeLeaf(
    node: NodeStatus,
    template: Template,
    rt: ResolvedTemplate,
    inputs: ProcessedInputs,
    inv: Invocation,
    releaseSlots: () => void,
    releaseLocks: () => void,
  ): Promise<boolean> {
    if (this.shutdown && !(inv.onExit && this.shutdown === "Stop")) {
      throw new NodeOutcome("Failed", `workflow shutdown with strategy: ${this.shutdown}`);
    }
    if (this.deadlineExceeded && !inv.onExit) throw new NodeOutcome("Failed", DEADLINE_MESSAGE);
    if (template.resource && !this.options.executor.capabilities.resource) {
      throw new NodeOutcome(
        "Error",
        `${C["SKF-CTRL-002"]}: resource templates need Kubernetes; executor '${this.options.executor.name}' cannot run them`,
      );
    }
    if (template.plugin) {
      throw new NodeOutcome("Error", `${C["SKF-CTRL-007"]}: plugin templates are not supported`);
    }
    const now = this.options.clock.now();
    const deadlines: { at: number; message: string }[] = [];
    if (this.deadline !== undefined && !inv.onExit)
      deadlines.push({ at: this.deadline, message: DEADLINE_MESSAGE });
    if (template.activeDeadlineSeconds !== undefined) {
      const secs = Number(template.activeDeadlineSeconds);
      if (Number.isFinite(secs) && secs > 0)
        deadlines.push({ at: now + secs * 1000, message: POD_DEADLINE_MESSAGE });
    }
    if (template.timeout) {
      const startedAt = Date.parse(node.startedAt ?? "") || now;
      deadlines.push({ at: startedAt + parseDuration(template.timeout), message: POD_DEADLINE_MESSAGE });
    }
    deadlines.sort((a, b) => a.at - b.at);
    const first = deadlines[0];

    if (template.containerSet) {
      for (const c of template.containerSet.containers) {
        this.createNode({
          name: `${node.name}.${c.name}`,
          type: "Container",
          phase: "Pending",
          boundaryID: node.id,
          scope: inv.scope,
        });
      }
      for (const c of template.containerSet.containers) {
        const child = this.idOf(`${node.name}.${c.name}`);
        if (!c.dependencies?.length) this.addChild(node, child);
        for (const d of c.dependencies ?? []) {
          const dep = this.nodeByName(`${node.name}.${d}`);
          if (dep) this.addChild(dep, child);
        }
      }
    }

    const pod = podNameOf(this.name, node.name, rt.template.name ?? "");
    const request: StepRequest = {
      workflowName: this.name,
      namespace: this.namespace,
      workflowUid: this.wf.metadata.uid ?? "",
      nodeId: node.id,
      nodeName: node.name,
      podName: pod,
      templateName: rt.template.name ?? "",
      template,
      parameters: inputs.parameters,
      inputArtifacts: inputs.artifacts,
      artifactKeyPrefix: `${this.name}/${pod}`,
      captureResult: inv.captureResult || !!template.data || !!template.http,
      env: { ...(this.options.env ?? {}) },
      daemon: template.daemon === true,
      evaluate: (expression, env) => evaluateExpression(expression, env),
    };
    if (this.options.artifactRepository) request.artifactRepository = this.options.artifactRepository;
    if (this.options.workspace !== undefined) request.workspace = this.options.workspace;
    request.volumes = this.podVolumes(template);
    request.configMaps = this.compiled.configMaps;
    request.secrets = this.compiled.secrets;
    // A pod gets the workflow's hostAliases and then the template's, as Argo builds the pod spec.
    const wfAliases = this.wf.spec.hostAliases;
    if (Array.isArray(wfAliases) && wfAliases.length > 0) {
      request.template = {
        ...template,
        hostAliases: [...(wfAliases as K8sObject[]), ...(template.hostAliases ?? [])],
      };
    }
    if (first) request.deadline = first.at;
    // A step a resumed controller finds Running is past Pending: only its running deadlines apply.
    const pendingAt =
      this.recovering.get(node.id) === "Running" ? undefined : this.pendingDeadline(node, template);
    if (pendingAt !== undefined && pendingAt <= now) throw new NodeOutcome("Failed", "timeout");
    if (first && first.at <= now) throw new NodeOutcome("Failed", first.message);

    let handle: StepHandle;
    try {
      // The node stays Pending until the executor has started the step (an image pull, a busy engine).
      handle = await this.untilPendingDeadline(this.startOrAttach(request), pendingAt, (late) => {
        const executor = this.options.executor;
        void executor
          .kill(late, "timeout")
          .then(() => executor.wait(late))
          .catch(() => undefined);
      });
    } catch (e) {
      if (e instanceof NodeOutcome) throw e;
      throw new NodeOutcome("Error", messageOf(e));
    }
    const running: RunningPod = { node, handle, onExit: inv.onExit, daemon: request.daemon };
    this.running.add(running);
    void this.forwardLogs(handle);
    let timer: TimerHandle | undefined;
    if (first) {
      timer = this.options.clock.setTimer(first.at - this.options.clock.now(), () =>
        this.killPod(running, "Failed", first.message),
      );
    }
    if (this.shutdown && !(inv.onExit && this.shutdown === "Stop")) {
      this.killPod(running, "Failed", `workflow shutdown with strategy:  ${this.shutdown}`);
    } else if (this.deadlineExceeded && !inv.onExit) {
      this.killPod(running, "Failed", DEADLINE_MESSAGE);
    }
    if (!running.killed) this.markPhase(node, "Running");
    for (const c of template.containerSet?.containers ?? []) {
      const cn = this.nodeByName(`${node.name}.${c.name}`);
      if (cn && !running.killed) this.markPhase(cn, "Running");
    }

    const complete = async (): Promise<void> => {
      let result: StepResult;
      try {
        result = await this.options.executor.wait(handle);
      } catch (e) {
        result = {
          phase: "Error",
          message: messageOf(e),
          exitCode: null,
          outputs: {},
          startedAt: node.startedAt ?? iso(now),
          finishedAt: iso(this.options.clock.now()),
        };
      }
      if (timer) this.options.clock.clearTimer(timer);
      this.running.delete(running);
      this.applyResult(node, template, result, running);
    };

    if (request.daemon && !running.killed) {
      let ready = false;
      const readyPromise = this.options.executor.ready(handle).then(
        (r) => {
          ready = true;
          return r;
        },
        () => undefined,
      );
      const completion = complete();
      const first = await Promise.race([readyPromise, completion.then(() => undefined)]);
      if (ready && first && !isFulfilled(node)) {
        node.podIP = first.ip;
        node.daemoned = true;
        inv.boundary?.daemons.add(running);
        this.daemonsAll.add(running);
        this.markPhase(node, "Running");
        this.touch();
        void completion
          .finally(() => {
            inv.boundary?.daemons.delete(running);
            this.daemonsAll.delete(running);
            releaseSlots();
            releaseLocks();
            this.exportOutputs(node.outputs, this.globals);
          })
          .catch((e: unknown) => this.markPhase(node, "Error", messageOf(e)));
        return true;
      }
      await completion;
      return false;
    }
    await complete();
    return false;
  }

  /**
   * Starts the step, or on recovery follows the one an earlier controller started. A Running node whose
   * step is gone is a lost pod to Argo: Error `pod deleted`, then its retryStrategy decides.
   */
  private async startOrAttach(request: StepRequest): Promise<StepHandle> {
    const persisted = this.recovering.get(request.nodeId);
    this.recovering.delete(request.nodeId);
    const executor = this.options.executor;
    if (persisted === undefined || !executor.attach) return executor.start(request);
    let handle: StepHandle | undefined;
    try {
      handle = await executor.attach(request);
    } catch (e) {
      throw new NodeOutcome("Error", `${C["SKF-CTRL-014"]}: ${messageOf(e)}`);
    }
    if (handle) return handle;
    if (persisted === "Running") throw new NodeOutcome("Error", POD_DELETED_MESSAGE);
    return executor.start(request);
  }

  private readonly daemonsAll = new Set<RunningPod>();

  private applyResult(node: NodeStatus, template: Template, result: StepResult, running: RunningPod): void {
    const outputs: Outputs = {};
    if (result.outputs.parameters?.length) outputs.parameters = result.outputs.parameters;
    if (result.outputs.artifacts?.length) outputs.artifacts = result.outputs.artifacts;
    if (result.outputs.result !== undefined) outputs.result = result.outputs.result;
    const exitCode =
      result.outputs.exitCode ?? (result.exitCode === null ? undefined : String(result.exitCode));
    if (exitCode !== undefined) outputs.exitCode = exitCode;
    if (Object.keys(outputs).length) node.outputs = outputs;
    if (result.hostNodeName) node.hostNodeName = result.hostNodeName;
    for (const c of result.containers ?? []) {
      const cn = this.nodeByName(`${node.name}.${c.name}`);
      if (!cn) continue;
      if (c.exitCode !== null) cn.outputs = { exitCode: String(c.exitCode) };
      const phase: NodePhase = running.killed ? running.killed.phase : c.phase;
      this.markPhase(cn, phase, c.message ?? "");
    }
    for (const c of template.containerSet?.containers ?? []) {
      const cn = this.nodeByName(`${node.name}.${c.name}`);
      if (cn && !isFulfilled(cn))
        this.markPhase(cn, running.killed?.phase ?? (result.phase === "Succeeded" ? "Succeeded" : "Failed"));
    }
    if (running.killed) {
      this.markPhase(node, running.killed.phase, running.killed.message);
      return;
    }
    if (running.daemon && node.daemoned && result.phase === "Succeeded") {
      this.markPhase(node, "Failed", result.message ?? "daemon exited");
      return;
    }
    this.markPhase(node, result.phase, result.message ?? "");
  }

  private killPod(pod: RunningPod, phase: NodePhase, message: string): void {
    if (pod.killed) return;
    pod.killed = pod.daemon && pod.node.daemoned ? { phase: "Succeeded", message: "" } : { phase, message };
    this.options.executor.kill(pod.handle, message).catch(() => undefined);
  }

  private async forwardLogs(handle: StepHandle): Promise<void> {
    if (!this.options.onEvent) return;
    try {
      for await (const line of this.options.executor.logs(handle)) {
        this.emit({ type: "log", workflowName: this.name, line });
      }
    } catch {
      // Logs are best effort.
    }
  }

  private async killDaemons(boundary: Boundary): Promise<void> {
    const list = [...boundary.daemons];
    if (!list.length) return;
    const waits = list.map(
      (d) =>
        new Promise<void>((resolve) => {
          if (isFulfilled(d.node) && !d.node.daemoned) return resolve();
          const off = this.onPhaseChange(d.node, () => {
            if (d.node.phase !== "Running") {
              off();
              resolve();
            }
          });
        }),
    );
    for (const d of list) this.killPod(d, "Succeeded", "");
    await Promise.all(waits);
  }

  private async killAllDaemons(): Promise<void> {
    await this.killDaemons({ daemons: this.daemonsAll } as Boundary);
  }

  // ---------------------------------------------------------------- suspend

  private async executeSuspend(node: NodeStatus, template: Template, inputs: ProcessedInputs): Promise<void> {
    const supplied = (template.outputs?.parameters ?? []).filter((p) => p.valueFrom?.supplied);
    if (supplied.length) {
      node.outputs = {
        parameters: supplied.map((p) => {
          const out: Parameter = { name: p.name, valueFrom: { ...p.valueFrom } };
          const def = p.valueFrom?.default ?? inputs.parameters.find((i) => i.name === p.name)?.default;
          if (def !== undefined && out.valueFrom) out.valueFrom.default = def;
          if (p.globalName) out.globalName = p.globalName;
          return out;
        }),
      };
    }
    if (this.shutdown) throw new NodeOutcome("Failed", `Stopped with strategy '${this.shutdown}'`);
    if (this.deadlineExceeded) throw new NodeOutcome("Failed", DEADLINE_MESSAGE);
    this.markPhase(node, "Running");
    const outcome = await new Promise<{ phase: NodePhase; message?: string }>((resolve) => {
      const waiter: SuspendWaiter = {
        node,
        resolve: (o) => {
          if (waiter.timer) this.options.clock.clearTimer(waiter.timer);
          this.suspends.delete(waiter);
          resolve(o);
        },
      };
      const duration = template.suspend?.duration;
      if (duration !== undefined && duration !== "") {
        const ms = parseDuration(duration);
        const startedAt = Date.parse(node.startedAt ?? "") || this.options.clock.now();
        const remaining = startedAt + ms - this.options.clock.now();
        waiter.timer = this.options.clock.setTimer(Math.max(0, remaining), () => {
          try {
            this.fillSuppliedDefaults(node);
            waiter.resolve({ phase: "Succeeded" });
          } catch (e) {
            waiter.resolve({ phase: "Error", message: messageOf(e) });
          }
        });
      }
      this.suspends.add(waiter);
    });
    this.markPhase(node, outcome.phase, outcome.message ?? "");
  }

  private checkSuppliedDefaults(node: NodeStatus): void {
    for (const p of node.outputs?.parameters ?? []) {
      if (p.value === undefined && p.valueFrom?.default === undefined) {
        throw new SkiffError(
          C["SKF-CTRL-010"],
          `raw output parameter '${p.name}' has not been set and does not have a default value`,
        );
      }
    }
  }

  private fillSuppliedDefaults(node: NodeStatus): void {
    for (const p of node.outputs?.parameters ?? []) {
      if (p.value !== undefined) continue;
      if (p.valueFrom?.default !== undefined) p.value = p.valueFrom.default;
      else
        throw new SkiffError(
          C["SKF-CTRL-010"],
          `raw output parameter '${p.name}' has not been set and does not have a default value`,
        );
    }
  }

  // ---------------------------------------------------------------- steps

  private newBoundary(node: NodeStatus, template: Template): Boundary {
    return {
      node,
      template,
      limiter:
        template.parallelism && template.parallelism > 0 ? new Limiter(template.parallelism) : undefined,
      failFast: template.failFast === true,
      tripped: false,
      daemons: new Set(),
    };
  }

  private async executeSteps(
    node: NodeStatus,
    template: Template,
    vars: LayeredVars,
    childInv: Invocation,
    inputs: ProcessedInputs,
  ): Promise<void> {
    const boundary = this.newBoundary(node, template);
    const scope = new SiblingScope("steps", vars, childInv.scope);
    for (const a of inputs.artifacts) scope.artifacts.set(`inputs.artifacts.${a.name}`, a);
    const parentJson = resultReferences(JSON.stringify(template));
    const groups = template.steps ?? [];
    let lastGroup: NodeStatus | undefined;
    try {
      for (let i = 0; i < groups.length; i++) {
        const sgName = `${node.name}[${i}]`;
        const sg = this.createNode({
          name: sgName,
          type: "StepGroup",
          phase: "Running",
          boundaryID: node.id,
          scope: childInv.scope,
        });
        if (i === 0) this.addChild(node, sg.id);
        else if (lastGroup) {
          if (!lastGroup.children?.length) this.addChild(lastGroup, sg.id);
          else
            for (const c of lastGroup.children) {
              for (const o of outboundNodes(this.nodes, c)) {
                const out = this.nodes[o];
                if (out) this.addChild(out, sg.id);
              }
            }
        }
        lastGroup = sg;
        await this.executeStepGroup(
          sg,
          groups[i] ?? [],
          scope,
          boundary,
          { ...childInv, boundary },
          parentJson,
        );
        if (boundary.tripped) {
          this.markPhase(sg, "Failed", FAIL_FAST_MESSAGE);
          throw new NodeOutcome("Failed", FAIL_FAST_MESSAGE);
        }
        if (isFailedOrError(sg.phase)) throw new NodeOutcome("Failed", sg.message ?? "");
      }
      await this.killDaemons(boundary);
      node.outputs = this.templateOutputs(template, scope);
      if (!node.outputs) delete node.outputs;
    } finally {
      await this.killDaemons(boundary);
      if (lastGroup) {
        const outbound = new Set<string>();
        for (const c of lastGroup.children ?? []) {
          for (const o of outboundNodes(this.nodes, c)) outbound.add(o);
        }
        if (outbound.size) node.outboundNodes = [...outbound];
      }
    }
  }

  /** Resolves sibling references in a step/task (strict: missing `steps.*` keys are errors here). */
  private resolveInvocation<T extends InvocationBase>(
    step: T,
    scope: SiblingScope,
    itemVars?: ReadonlyMap<string, string>,
  ): { step: T; absentRefs: Record<string, string> } {
    const vars = new LayeredVars(scope.vars, itemVars);
    vars.set(`${scope.prefix}.name`, step.name);
    const absentRefs: Record<string, string> = {};
    const copy: T = { ...step };
    if (itemVars) {
      // Already expanded: serializing a long item list again for every item would cost O(items²) (Argo nils
      // these fields for the same reason).
      delete copy.withItems;
      delete copy.withParam;
      delete copy.withSequence;
    }
    if (copy.arguments?.parameters?.length) {
      copy.arguments = {
        ...copy.arguments,
        parameters: copy.arguments.parameters.map((p) => {
          const ref = singleReference(p.value);
          if (ref !== undefined && vars.get(ref) === null) {
            absentRefs[p.name] = ref;
            const np = { ...p };
            delete np.value;
            return np;
          }
          return p;
        }),
      };
    }
    const opts = {
      strictPrefixes: [scope.prefix],
      allowUnresolved: [ARTIFACT_REF, /^(steps|tasks)\.name$/],
    };
    // Hooks are resolved when they fire (they may reference this step's own status and outputs).
    const hooks = copy.hooks;
    delete copy.hooks;
    const resolved = substituteObject(copy, narrowVars(JSON.stringify(copy), vars), opts);
    if (hooks) resolved.hooks = hooks;
    if (resolved.arguments?.artifacts?.length) {
      resolved.arguments = {
        ...resolved.arguments,
        artifacts: resolved.arguments.artifacts.flatMap((a: Artifact) => {
          const r = this.resolveArtifactArg(a, scope, vars);
          return r ? [r] : [];
        }),
      };
    }
    return { step: resolved, absentRefs };
  }

  private resolveArtifactArg(
    a: Artifact,
    scope: SiblingScope,
    vars: ReadonlyMap<string, string | null>,
  ): Artifact | undefined {
    let source: Artifact | null | undefined;
    if (a.from) {
      const key = singleReference(a.from);
      source = key ? (scope.artifacts.get(key) ?? this.globalArtifacts.get(key)) : undefined;
      if (source === undefined && key?.startsWith("inputs.artifacts.")) {
        source = undefined;
      }
      if (!source) {
        if (a.optional) return undefined;
        throw new SkiffError(C["SKF-CTRL-013"], `Unable to resolve: ${a.from}`);
      }
    } else if (a.fromExpression) {
      const env: Record<string, unknown> = Object.fromEntries(
        vars instanceof LayeredVars ? vars.materialize() : vars,
      );
      for (const [k, v] of scope.artifacts) env[k] = v;
      const r = evaluateExpression(a.fromExpression, env);
      if (!r || typeof r !== "object") {
        if (a.optional) return undefined;
        throw new SkiffError(C["SKF-CTRL-013"], `Unable to resolve: ${a.fromExpression}`);
      }
      source = r as Artifact;
    } else {
      return a;
    }
    const out: Artifact = { ...locationOf(source), name: a.name };
    if (a.subPath) out.subPath = a.subPath;
    if (a.optional) out.optional = a.optional;
    return out;
  }

  private expandLoop(step: InvocationBase, scope: SiblingScope): LoopItem[] | undefined {
    const vars = scope.vars;
    const strict = { strictPrefixes: [scope.prefix] };
    if (step.withItems) return toLoopItems(substituteObject(step.withItems, vars));
    if (step.withParam !== undefined) {
      return toLoopItems(
        parseWithParam(substitute(step.withParam, narrowVars(step.withParam, vars), strict)),
      );
    }
    if (step.withSequence)
      return toLoopItems(expandSequence(substituteObject(step.withSequence, vars, strict)));
    return undefined;
  }

  /** Evaluates a `when` once its tags are substituted. */
  private shouldExecute(
    when: string | undefined,
    vars: ReadonlyMap<string, string | null>,
    prefix: string,
  ): boolean {
    if (!when) return true;
    const text = substitute(when, narrowVars(when, vars), { strictPrefixes: [prefix] });
    return evaluateWhen(text);
  }

  private async executeStepGroup(
    sg: NodeStatus,
    steps: WorkflowStep[],
    scope: SiblingScope,
    boundary: Boundary,
    inv: Invocation,
    parentJson: (name: string) => boolean,
  ): Promise<void> {
    const runs: Promise<void>[] = [];
    const childSteps = new Map<string, WorkflowStep>();
    const loops: { step: WorkflowStep; children: NodeStatus[] }[] = [];
    const singles: { step: WorkflowStep; node: () => NodeStatus | undefined }[] = [];
    let groupError: string | undefined;

    const launch = (
      name: string,
      step: WorkflowStep,
      absentRefs: Record<string, string>,
      loopChildren?: NodeStatus[],
    ) => {
      const childName = `${sg.name}.${name}`;
      let created: NodeStatus | undefined;
      let hooks: (() => Promise<void>) | undefined;
      const run = async () => {
        const childInv: Invocation = {
          ...inv,
          local: ["steps.name", step.name],
          captureResult: parentJson(step.name),
          onCreate: (n) => {
            created = n;
            this.addChild(sg, n.id);
            childSteps.set(n.id, step);
            loopChildren?.push(n);
            hooks ??= this.watchStepHooks(n, step, scope, inv);
          },
        };
        const node = await this.executeTemplate(childName, step, step.arguments ?? {}, childInv, absentRefs);
        if (!node) return;
        await (hooks ?? (() => this.runStepHooks(node, step, scope, inv)))();
      };
      if (!loopChildren) singles.push({ step, node: () => created });
      runs.push(run());
    };

    // Argo resolves references and expands loops for the whole group before starting any step: an error
    // there errors the group with the plain message and nothing runs. A step whose `when` is false is not
    // resolved at all (its body may name outputs that will never exist).
    type Planned = {
      raw: WorkflowStep;
      name: string;
      children?: NodeStatus[];
      when: { ok: boolean; text: string } | { error: string };
      resolved?: { step: WorkflowStep; absentRefs: Record<string, string> };
    };
    const planned: Planned[] = [];
    const evaluate = (raw: WorkflowStep, vars: ReadonlyMap<string, string | null>): Planned["when"] => {
      if (!raw.when) return { ok: true, text: "" };
      try {
        const ok = this.shouldExecute(raw.when, vars, "steps");
        return { ok, text: ok ? "" : substitute(raw.when, narrowVars(raw.when, vars)) };
      } catch (e) {
        return { error: messageOf(e) };
      }
    };
    for (const raw of steps) {
      const loop =
        raw.withItems !== undefined || raw.withParam !== undefined || raw.withSequence !== undefined;
      try {
        if (!loop) {
          const when = evaluate(raw, scope.vars);
          const p: Planned = { raw, name: raw.name, when };
          if ("ok" in when && when.ok) p.resolved = this.resolveInvocation(raw, scope);
          planned.push(p);
          continue;
        }
        const items = this.expandLoop(raw, scope) ?? [];
        if (!items.length) {
          const n = this.skippedNode(`${sg.name}.${raw.name}`, raw, inv, "Skipped", "Skipped, empty params");
          this.addChild(sg, n.id);
          childSteps.set(n.id, raw);
          continue;
        }
        const children: NodeStatus[] = [];
        loops.push({ step: raw, children });
        for (const item of items) {
          const when = evaluate(raw, new LayeredVars(scope.vars, item.vars));
          const p: Planned = { raw, name: `${raw.name}(${item.index}:${item.desc})`, children, when };
          if ("ok" in when && when.ok) p.resolved = this.resolveInvocation(raw, scope, item.vars);
          planned.push(p);
        }
      } catch (e) {
        groupError = messageOf(e);
        break;
      }
    }

    for (const p of groupError ? [] : planned) {
      const { raw } = p;
      const childName = `${sg.name}.${p.name}`;
      if ("error" in p.when) {
        const n = this.errorNode(childName, inv, p.when.error, "Skipped", raw);
        this.addChild(sg, n.id);
        groupError = p.when.error;
        break;
      }
      if (!p.when.ok) {
        const n = this.skippedNode(childName, raw, inv, "Skipped", `when '${p.when.text}' evaluated false`);
        this.addChild(sg, n.id);
        childSteps.set(n.id, raw);
        if (p.children) p.children.push(n);
        else singles.push({ step: raw, node: () => n });
        continue;
      }
      if (p.resolved)
        launch(p.name, { ...p.resolved.step, name: raw.name }, p.resolved.absentRefs, p.children);
    }
    await Promise.all(runs);
    for (const s of singles) {
      const n = s.node();
      if (n) this.recordSibling(scope, s.step.name, n, s.step);
    }
    for (const l of loops) this.recordLoop(scope, l.step.name, sg, l.children, l.step);
    if (groupError) {
      this.markPhase(sg, "Error", groupError);
      return;
    }
    if (boundary.tripped) return;
    for (const id of sg.children ?? []) {
      const child = this.nodes[id];
      const setupError = this.setupErrors.get(id);
      if (child && setupError !== undefined) {
        this.markPhase(
          sg,
          "Error",
          `step group deemed errored due to child ${child.name} error: ${setupError}`,
        );
        return;
      }
    }
    for (const id of sg.children ?? []) {
      const child = this.nodes[id];
      if (!child) continue;
      const step = childSteps.get(id);
      if (isFailedOrError(child.phase) && !continues(step, child.phase)) {
        this.markPhase(sg, "Failed", `child '${id}' failed`);
        return;
      }
    }
    this.markPhase(sg, "Succeeded");
  }

  private skippedNode(
    name: string,
    holder: InvocationBase,
    inv: Invocation,
    phase: NodePhase,
    message: string,
  ): NodeStatus {
    return this.createNode({
      name,
      type: "Skipped",
      phase,
      boundaryID: inv.boundaryID,
      templateName: holder.template,
      templateRef: holder.templateRef,
      scope: inv.scope,
      message,
    });
  }

  // ---------------------------------------------------------------- scope records

  /** Adds `<prefix>.<name>.*` for a finished child (Argo's buildLocalScope). */
  private recordSibling(scope: SiblingScope, name: string, node: NodeStatus, holder: InvocationBase): void {
    const key = `${scope.prefix}.${name}`;
    let src = node;
    if (node.type === "Retry") {
      const attempts = (node.children ?? []).map((c) => this.nodes[c]).filter((n) => n?.nodeFlag?.retried);
      src = attempts[attempts.length - 1] ?? node;
    }
    const v = scope.vars;
    v.set(`${key}.id`, src.id);
    v.set(`${key}.status`, src.phase);
    if (src.startedAt) v.set(`${key}.startedAt`, src.startedAt);
    if (src.finishedAt) v.set(`${key}.finishedAt`, src.finishedAt);
    if (src.podIP ?? node.podIP) v.set(`${key}.ip`, (src.podIP ?? node.podIP) as string);
    if (src.hostNodeName) v.set(`${key}.hostNodeName`, src.hostNodeName);
    const outputs = node.outputs ?? src.outputs;
    // A Skipped node with outputs is a step `resubmit --memoized` carried over: its outputs are real.
    if ((node.phase === "Skipped" || node.phase === "Omitted") && !node.outputs) {
      this.recordAbsentOutputs(scope, key, holder);
      return;
    }
    if (outputs) this.recordOutputs(scope, key, outputs);
  }

  private recordOutputs(scope: SiblingScope, key: string, outputs: Outputs): void {
    const v = scope.vars;
    if (outputs.result !== undefined) v.set(`${key}.outputs.result`, outputs.result);
    if (outputs.exitCode !== undefined) v.set(`${key}.exitCode`, outputs.exitCode);
    for (const p of outputs.parameters ?? []) {
      if (p.value !== undefined) v.set(`${key}.outputs.parameters.${p.name}`, p.value);
    }
    for (const a of outputs.artifacts ?? []) scope.artifacts.set(`${key}.outputs.artifacts.${a.name}`, a);
  }

  /** §2.4: outputs of a Skipped/Omitted producer are absent unless they declare a default. */
  private recordAbsentOutputs(scope: SiblingScope, key: string, holder: InvocationBase): void {
    let template: Template | undefined;
    try {
      template = this.templates.resolve(holder, scope.templateScope).template;
    } catch {
      template = undefined;
    }
    const v = scope.vars;
    if (!v.has(`${key}.outputs.result`)) v.set(`${key}.outputs.result`, null);
    for (const p of template?.outputs?.parameters ?? []) {
      v.set(`${key}.outputs.parameters.${p.name}`, p.valueFrom?.default ?? null);
    }
    if (scope.prefix === "steps") {
      for (const a of template?.outputs?.artifacts ?? []) {
        scope.artifacts.set(`${key}.outputs.artifacts.${a.name}`, { name: a.name });
      }
    }
  }

  /** Aggregated outputs of a loop (Argo's processAggregateNodeOutputs). */
  private recordLoop(
    scope: SiblingScope,
    name: string,
    group: NodeStatus,
    children: NodeStatus[],
    _holder: InvocationBase,
  ): void {
    const key = `${scope.prefix}.${name}`;
    const v = scope.vars;
    v.set(`${key}.id`, group.id);
    v.set(`${key}.status`, group.phase);
    if (group.startedAt) v.set(`${key}.startedAt`, group.startedAt);
    if (group.finishedAt) v.set(`${key}.finishedAt`, group.finishedAt);
    const sorted = [...children].sort((a, b) => loopIndexOf(a.name) - loopIndexOf(b.name));
    const results: unknown[] = [];
    let resultsOk = true;
    const paramMaps: Record<string, string>[] = [];
    const perParam = new Map<string, string[]>();
    for (const c of sorted) {
      const outputs = c.outputs;
      if (c.phase !== "Succeeded" || !outputs) continue;
      if (outputs.result !== undefined) {
        try {
          results.push(JSON.parse(outputs.result));
        } catch {
          resultsOk = false;
        }
      }
      const m: Record<string, string> = {};
      for (const p of outputs.parameters ?? []) {
        if (p.value === undefined) continue;
        m[p.name] = p.value;
        const list = perParam.get(p.name) ?? [];
        list.push(p.value);
        perParam.set(p.name, list);
      }
      if (Object.keys(m).length) paramMaps.push(m);
    }
    if (results.length && resultsOk) v.set(`${key}.outputs.result`, JSON.stringify(results));
    v.set(`${key}.outputs.parameters`, JSON.stringify(paramMaps));
    for (const [p, values] of perParam) {
      const allJson = values.every((x) => {
        try {
          const parsed: unknown = JSON.parse(x);
          return parsed !== null && typeof parsed === "object";
        } catch {
          return false;
        }
      });
      v.set(
        `${key}.outputs.parameters.${p}`,
        allJson ? "[" + values.join(",") + "]" : JSON.stringify(values),
      );
    }
  }

  /** Outputs of a steps/DAG template from its sibling scope (`valueFrom.parameter` / `expression` / `from`). */
  private templateOutputs(template: Template, scope: SiblingScope): Outputs | undefined {
    const decl = template.outputs;
    if (!decl?.parameters?.length && !decl?.artifacts?.length) return undefined;
    const out: Outputs = {};
    for (const p of decl.parameters ?? []) {
      const vf = p.valueFrom;
      let value: string | undefined = p.value;
      try {
        if (vf?.parameter !== undefined) {
          const ref = singleReference(vf.parameter);
          if (ref !== undefined && scope.vars.get(ref) === null) value = undefined;
          else value = substitute(vf.parameter, scope.vars, { strictPrefixes: [scope.prefix] });
        } else if (vf?.expression !== undefined) {
          const r = evaluateExpression(vf.expression, scope.vars);
          value = r === null || r === undefined ? undefined : typeof r === "string" ? r : JSON.stringify(r);
        } else if (vf?.supplied === undefined && vf?.default !== undefined && value === undefined) {
          value = vf.default;
        }
      } catch {
        value = undefined;
      }
      if (value === undefined) value = vf?.default;
      if (value === undefined) {
        throw new NodeOutcome("Error", `Unable to resolve outputs.parameters.${p.name}: no value found`);
      }
      (out.parameters ??= []).push({ ...p, value });
    }
    for (const a of decl.artifacts ?? []) {
      try {
        const r = this.resolveArtifactArg(a, scope, scope.vars);
        if (!r) continue;
        const art: Artifact = { ...r };
        if (a.globalName) art.globalName = a.globalName;
        (out.artifacts ??= []).push(art);
      } catch (e) {
        if (a.optional) continue;
        throw new NodeOutcome("Error", messageOf(e));
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- hooks and exit handlers

  /**
   * After a step/task node exists: lifecycle hooks (watched on its phase changes) and, once it is
   * completed, its exit handler. Resolves when all triggered hooks and the exit handler are fulfilled.
   */
  /** Hooks and exit handler of a step/task whose node is already done (or found done on recovery). */
  private runStepHooks(
    node: NodeStatus,
    step: InvocationBase,
    scope: SiblingScope,
    inv: Invocation,
  ): Promise<void> {
    return this.watchStepHooks(node, step, scope, inv)();
  }

  /**
   * Starts watching a step/task node for its lifecycle hooks as soon as the node exists, so a hook on
   * `status == "Running"` fires while it runs. The returned function waits for the node, the hooks it
   * triggered and, once the node is completed, its exit handler.
   */
  private watchStepHooks(
    node: NodeStatus,
    step: InvocationBase,
    scope: SiblingScope,
    inv: Invocation,
  ): () => Promise<void> {
    const hooks = step.hooks ?? {};
    const names = Object.keys(hooks).filter((h) => h !== "exit");
    const runs: Promise<unknown>[] = [];
    const fired = new Set<string>();
    const selfVars = () => {
      const v = new LayeredVars(scope.vars);
      const key = `${scope.prefix}.${step.name}`;
      v.set(`${key}.status`, node.phase);
      v.set(`${key}.id`, node.id);
      if (node.outputs) {
        for (const p of node.outputs.parameters ?? [])
          if (p.value !== undefined) v.set(`${key}.outputs.parameters.${p.name}`, p.value);
        if (node.outputs.result !== undefined) v.set(`${key}.outputs.result`, node.outputs.result);
        if (node.outputs.exitCode !== undefined) v.set(`${key}.exitCode`, node.outputs.exitCode);
      }
      return v;
    };
    const check = () => {
      for (const h of names) {
        if (fired.has(h)) continue;
        const hook = hooks[h] as LifecycleHook;
        if (!hook.expression) continue;
        let ok = false;
        try {
          const vars = selfVars();
          ok = evaluateExpression(substitute(hook.expression, vars), vars) === true;
        } catch {
          ok = false;
        }
        if (!ok) continue;
        fired.add(h);
        runs.push(this.runHook(`${node.name}.hooks.${h}`, hook, node, inv, selfVars(), scope, step.name));
      }
    };
    let off: (() => void) | undefined;
    let offTimer: (() => void) | undefined;
    if (names.length) {
      check();
      off = this.onPhaseChange(node, check);
      offTimer = this.onHookTimer(check);
    }
    return async () => {
      if (names.length) {
        if (!isFulfilled(node)) {
          await new Promise<void>((resolve) => {
            const off2 = this.onPhaseChange(node, () => {
              if (isFulfilled(node)) {
                off2();
                resolve();
              }
            });
          });
        }
        check();
        off?.();
        offTimer?.();
      }
      const exitHook: LifecycleHook | undefined =
        hooks.exit ?? (step.onExit ? { template: step.onExit } : undefined);
      if (exitHook && isCompleted(node.phase) && !(this.shutdown === "Terminate")) {
        const vars = new LayeredVars(scope.vars);
        const key = `${scope.prefix}.${step.name}`;
        vars.set(`${key}.status`, node.phase);
        vars.set(`${key}.id`, node.id);
        for (const p of node.outputs?.parameters ?? [])
          vars.set(`${key}.outputs.parameters.${p.name}`, p.value ?? "");
        if (node.outputs?.result !== undefined) vars.set(`${key}.outputs.result`, node.outputs.result);
        if (node.outputs?.exitCode !== undefined) vars.set(`${key}.exitCode`, node.outputs.exitCode);
        let run = true;
        if (exitHook.expression) {
          try {
            run = evaluateExpression(substitute(exitHook.expression, vars), vars) === true;
          } catch {
            run = false;
          }
        }
        if (run) runs.push(this.runHook(`${node.name}.onExit`, exitHook, node, inv, vars, scope, step.name));
      }
      await Promise.all(runs);
    };
  }

  private async runHook(
    name: string,
    hook: LifecycleHook,
    parent: NodeStatus,
    inv: Invocation,
    vars: ReadonlyMap<string, string | null>,
    scope: SiblingScope,
    selfName: string,
  ): Promise<NodeStatus | undefined> {
    let args: Arguments = hook.arguments ?? {};
    if (!hook.arguments || (!hook.arguments.parameters?.length && !hook.arguments.artifacts?.length)) {
      args = this.wf.spec.arguments ?? {};
    }
    try {
      args = substituteObject(args, vars, { allowUnresolved: [ARTIFACT_REF] });
      if (args.artifacts?.some((a) => a.from || a.fromExpression)) {
        // The hook may pass on the parent's own output artifacts.
        const own = new SiblingScope(scope.prefix, vars, scope.templateScope);
        for (const [k, v] of scope.artifacts) own.artifacts.set(k, v);
        const key = `${scope.prefix}.${selfName}`;
        for (const a of parent.outputs?.artifacts ?? [])
          own.artifacts.set(`${key}.outputs.artifacts.${a.name}`, a);
        args = {
          ...args,
          artifacts: args.artifacts.flatMap((a: Artifact) => {
            const r = this.resolveArtifactArg(a, own, vars);
            return r ? [r] : [];
          }),
        };
      }
    } catch (e) {
      return this.errorNode(name, { ...inv, onCreate: (n) => this.addChild(parent, n.id) }, messageOf(e));
    }
    return this.executeTemplate(name, { template: hook.template, templateRef: hook.templateRef }, args, {
      ...inv,
      // Only exit handlers are exempt from the deadline and Stop; other hooks run like any step.
      onExit: inv.onExit || name.endsWith(".onExit"),
      flag: { hooked: true },
      captureResult: false,
      local: undefined,
      onCreate: (n) => this.addChild(parent, n.id),
    });
  }

  /** Whether the workflow has lifecycle hooks (other than `exit`) whose expression could turn true later. */
  private hasTimedWorkflowHooks(): boolean {
    return Object.entries(this.wf.spec.hooks ?? {}).some(
      ([name, hook]) => name !== "exit" && !!hook.expression && !this.wfHooksFired.has(name),
    );
  }

  /**
   * Runs `check` every HOOK_REEVALUATION_MS of clock time until the returned function is called or the
   * workflow finishes. The timer exists only while some check is registered, and the real clock's timers
   * do not keep the process alive.
   */
  private onHookTimer(check: () => void): () => void {
    this.hookChecks.add(check);
    this.armHookTimer();
    return () => {
      this.hookChecks.delete(check);
      if (this.hookChecks.size === 0 && this.hookTimer) {
        this.options.clock.clearTimer(this.hookTimer);
        this.hookTimer = undefined;
      }
    };
  }

  private armHookTimer(): void {
    if (this.hookTimer || this.finished || this.hookChecks.size === 0) return;
    this.hookTimer = this.options.clock.setTimer(HOOK_REEVALUATION_MS, () => {
      this.hookTimer = undefined;
      if (this.finished) return;
      // Brings workflow.duration up to date for every expression evaluated in this round.
      this.globalVars();
      for (const check of [...this.hookChecks]) check();
      this.armHookTimer();
    });
  }

  private evaluateWorkflowHooks(): void {
    const hooks = this.wf.spec.hooks ?? {};
    for (const [name, hook] of Object.entries(hooks)) {
      if (name === "exit" || this.wfHooksFired.has(name) || !hook.expression) continue;
      let ok = false;
      try {
        const vars = this.globalVars();
        ok = evaluateExpression(substitute(hook.expression, vars), vars) === true;
      } catch {
        ok = false;
      }
      if (!ok) continue;
      this.wfHooksFired.add(name);
      const root = this.nodes[this.name];
      const inv: Invocation = {
        boundaryID: "",
        boundary: undefined,
        scope: this.compiled.rootScope,
        depth: 0,
        onExit: false,
        captureResult: false,
        flag: { hooked: true },
      };
      const run = async () => {
        await Promise.resolve();
        const r = this.nodes[this.name] ?? root;
        await this.executeTemplate(
          `${this.name}.hooks.${name}`,
          { template: hook.template, templateRef: hook.templateRef },
          hook.arguments ?? this.wf.spec.arguments ?? {},
          { ...inv, onCreate: (n) => (r ? this.addChild(r, n.id) : undefined) },
        );
      };
      this.wfHookRuns.push(run());
    }
  }

  private async runWorkflowExitHandler(phase: WorkflowPhase): Promise<NodeStatus | undefined> {
    const spec = this.wf.spec;
    const hook: LifecycleHook | undefined =
      spec.hooks?.exit ?? (spec.onExit ? { template: spec.onExit } : undefined);
    if (!hook) return undefined;
    if (this.shutdown === "Terminate") return undefined;
    this.globals.set("workflow.status", phase);
    this.globals.set("workflow.failures", this.failuresJson());
    const vars = this.globalVars();
    if (hook.expression) {
      try {
        if (evaluateExpression(substitute(hook.expression, vars), vars) !== true) return undefined;
      } catch {
        return undefined;
      }
    }
    const args = hook.arguments ?? spec.arguments ?? {};
    return this.executeTemplate(
      `${this.name}.onExit`,
      { template: hook.template, templateRef: hook.templateRef },
      args,
      {
        boundaryID: "",
        boundary: undefined,
        scope: this.compiled.rootScope,
        depth: 0,
        onExit: true,
        captureResult: false,
        flag: { hooked: true },
      },
    );
  }

  private failuresJson(): string {
    const failures = Object.values(this.nodes)
      .filter((n) => isFailedOrError(n.phase))
      .map((n) => ({
        displayName: n.displayName,
        message: n.message ?? "",
        templateName: n.templateName ?? n.templateRef?.template ?? "",
        phase: n.phase,
        podName: podNameOf(this.name, n.name, n.templateName ?? n.templateRef?.template ?? ""),
        finishedAt: n.finishedAt ?? "",
      }));
    return JSON.stringify(JSON.stringify(failures.length ? failures : null));
  }

  // ---------------------------------------------------------------- DAG

  private async executeDag(
    node: NodeStatus,
    template: Template,
    vars: LayeredVars,
    childInv: Invocation,
    inputs: ProcessedInputs,
  ): Promise<void> {
    const dag = template.dag ?? { tasks: [] };
    const boundary = this.newBoundary(node, template);
    const scope = new SiblingScope("tasks", vars, childInv.scope);
    for (const a of inputs.artifacts) scope.artifacts.set(`inputs.artifacts.${a.name}`, a);
    const parentJson = resultReferences(JSON.stringify(template));
    const tasks = new Map<string, DAGTask>(dag.tasks.map((t) => [t.name, t]));
    const depsOf = new Map<string, string[]>();
    for (const t of dag.tasks) {
      if (t.depends) depsOf.set(t.name, dependsTaskNames(t.depends));
      else depsOf.set(t.name, [...(t.dependencies ?? [])]);
    }
    let targets: string[];
    if (dag.target) {
      targets = substitute(dag.target, vars).split(/\s+/).filter(Boolean);
    } else {
      const dependedOn = new Set<string>();
      for (const d of depsOf.values()) for (const x of d) dependedOn.add(x);
      targets = dag.tasks
        .map((t) => t.name)
        .filter((n) => !dependedOn.has(n))
        .sort();
    }
    const taskNodes = new Map<string, NodeStatus>();
    const done = new Map<string, Promise<void>>();
    const inv: Invocation = { ...childInv, boundary };

    const runTask = (name: string): Promise<void> => {
      let p = done.get(name);
      if (p) return p;
      p = (async () => {
        const task = tasks.get(name);
        if (!task) return;
        const deps = depsOf.get(name) ?? [];
        await Promise.all(deps.map(runTask));
        if (boundary.tripped) return;
        await this.executeDagTask(task, deps, node, scope, boundary, inv, taskNodes, tasks, parentJson);
      })();
      done.set(name, p);
      return p;
    };
    try {
      await Promise.all(targets.map(runTask));
      await this.killDaemons(boundary);
      if (boundary.tripped) throw new NodeOutcome("Failed", FAIL_FAST_MESSAGE);
      const phase = this.assessDagPhase(
        node,
        targets,
        taskNodes,
        tasks,
        dag.failFast !== false,
        childInv.onExit,
      );
      if (phase !== "Succeeded") throw new NodeOutcome(phase, "");
      node.outputs = this.templateOutputs(template, scope);
      if (!node.outputs) delete node.outputs;
    } finally {
      await this.killDaemons(boundary);
      const outbound = new Set<string>();
      for (const t of targets) {
        const tn = taskNodes.get(t);
        if (!tn) continue;
        for (const o of outboundNodes(this.nodes, tn.id)) outbound.add(o);
      }
      if (outbound.size) node.outboundNodes = [...outbound];
    }
  }

  private async executeDagTask(
    task: DAGTask,
    deps: string[],
    dagNode: NodeStatus,
    scope: SiblingScope,
    boundary: Boundary,
    inv: Invocation,
    taskNodes: Map<string, NodeStatus>,
    tasks: Map<string, DAGTask>,
    parentJson: (name: string) => boolean,
  ): Promise<void> {
    const nodeName = `${dagNode.name}.${task.name}`;
    const wire = (n: NodeStatus) => {
      taskNodes.set(task.name, n);
      if (!deps.length) this.addChild(dagNode, n.id);
      for (const d of deps) {
        const dn = taskNodes.get(d);
        if (!dn) continue;
        for (const o of outboundNodes(this.nodes, dn.id)) {
          const out = this.nodes[o];
          if (out) this.addChild(out, n.id);
        }
      }
    };
    const taskInv: Invocation = {
      ...inv,
      local: ["tasks.name", task.name],
      captureResult: parentJson(task.name),
      onCreate: wire,
    };
    const finish = (n: NodeStatus | undefined) => {
      if (n) this.recordSibling(scope, task.name, n, task);
    };
    if (deps.length) {
      const depends = task.depends ?? dependenciesToDepends(deps);
      const results: Record<string, DependencyResult> = {};
      for (const d of deps) {
        const dn = taskNodes.get(d);
        const dt = tasks.get(d);
        const r: DependencyResult = {};
        if (dn) {
          r.phase = dn.phase;
          if (dn.daemoned) r.daemoned = true;
          if (dn.type === "TaskGroup") {
            r.isLoop = true;
            const kids = (dn.children ?? []).map((c) => this.nodes[c]).filter((c): c is NodeStatus => !!c);
            r.anySucceeded = kids.some((k) => k.phase === "Succeeded");
            r.allFailed = kids.length > 0 && kids.every((k) => k.phase === "Failed");
          }
        }
        if (dt?.continueOn) r.continueOn = dt.continueOn;
        results[d] = r;
      }
      let ok: boolean;
      try {
        ok = evaluateDepends(depends, results);
      } catch (e) {
        const n = this.skippedNode(nodeName, task, inv, "Error", messageOf(e));
        wire(n);
        return finish(n);
      }
      if (!ok) {
        const n = this.skippedNode(nodeName, task, inv, "Omitted", "omitted: depends condition not met");
        wire(n);
        return finish(n);
      }
    }
    const loop =
      task.withItems !== undefined || task.withParam !== undefined || task.withSequence !== undefined;
    try {
      if (!loop) {
        if (task.when) {
          let ok: boolean;
          try {
            ok = this.shouldExecute(task.when, scope.vars, "tasks");
          } catch (e) {
            const n = this.skippedNode(nodeName, task, inv, "Error", messageOf(e));
            wire(n);
            return finish(n);
          }
          if (!ok) {
            const n = this.skippedNode(
              nodeName,
              task,
              inv,
              "Skipped",
              `when '${substitute(task.when, narrowVars(task.when ?? "", scope.vars))}' evaluated false`,
            );
            wire(n);
            return finish(n);
          }
        }
        let resolved: { step: DAGTask; absentRefs: Record<string, string> };
        try {
          resolved = this.resolveInvocation(task, scope);
        } catch (e) {
          const n = this.skippedNode(nodeName, task, inv, "Error", messageOf(e));
          wire(n);
          return finish(n);
        }
        let hooks: (() => Promise<void>) | undefined;
        const n = await this.executeTemplate(
          nodeName,
          resolved.step,
          resolved.step.arguments ?? {},
          {
            ...taskInv,
            onCreate: (created) => {
              wire(created);
              hooks ??= this.watchStepHooks(created, task, scope, inv);
            },
          },
          resolved.absentRefs,
        );
        if (!n) return;
        this.markTaskSetupError(n);
        await (hooks ?? (() => this.runStepHooks(n, task, scope, inv)))();
        return finish(n);
      }
      const items = this.expandLoop(task, scope) ?? [];
      if (!items.length) {
        const n = this.skippedNode(nodeName, task, inv, "Skipped", "Skipped, empty params");
        wire(n);
        return finish(n);
      }
      const group = this.createNode({
        name: nodeName,
        type: "TaskGroup",
        phase: "Running",
        boundaryID: inv.boundaryID,
        templateName: task.template,
        templateRef: task.templateRef,
        scope: inv.scope,
      });
      wire(group);
      const children: NodeStatus[] = [];
      const runs = items.map(async (item) => {
        const childName = `${nodeName}(${item.index}:${item.desc})`;
        const itemVars = new LayeredVars(scope.vars, item.vars);
        const childInv: Invocation = {
          ...taskInv,
          onCreate: (n) => {
            this.addChild(group, n.id);
            children.push(n);
          },
        };
        if (task.when) {
          let ok: boolean;
          try {
            ok = this.shouldExecute(task.when, itemVars, "tasks");
          } catch (e) {
            const n = this.skippedNode(childName, task, inv, "Error", messageOf(e));
            childInv.onCreate?.(n);
            return;
          }
          if (!ok) {
            const n = this.skippedNode(
              childName,
              task,
              inv,
              "Skipped",
              `when '${substitute(task.when, narrowVars(task.when ?? "", itemVars))}' evaluated false`,
            );
            childInv.onCreate?.(n);
            return;
          }
        }
        let resolved: { step: DAGTask; absentRefs: Record<string, string> };
        try {
          resolved = this.resolveInvocation(task, scope, item.vars);
        } catch (e) {
          const n = this.skippedNode(childName, task, inv, "Error", messageOf(e));
          childInv.onCreate?.(n);
          return;
        }
        let hooks: (() => Promise<void>) | undefined;
        const n = await this.executeTemplate(
          childName,
          resolved.step,
          resolved.step.arguments ?? {},
          {
            ...childInv,
            onCreate: (created) => {
              childInv.onCreate?.(created);
              hooks ??= this.watchStepHooks(created, task, scope, inv);
            },
          },
          resolved.absentRefs,
        );
        if (!n) return;
        this.markTaskSetupError(n);
        await (hooks ?? (() => this.runStepHooks(n, task, scope, inv)))();
      });
      await Promise.all(runs);
      let phase: NodePhase = "Succeeded";
      for (const id of group.children ?? []) {
        const c = this.nodes[id];
        if (c && isFailedOrError(c.phase)) phase = c.phase;
      }
      // Argo gives a TaskGroup its phase only, never a message.
      this.markPhase(group, phase);
      this.recordLoop(scope, task.name, group, children, task);
    } catch (e) {
      const n = this.nodeByName(nodeName) ?? this.skippedNode(nodeName, task, inv, "Error", messageOf(e));
      if (!taskNodes.has(task.name)) wire(n);
      this.markPhase(n, "Error", messageOf(e));
      finish(n);
    }
  }

  /** A DAG task whose template could not be set up: Argo's `task '<node>' errored: <error>`. */
  private markTaskSetupError(node: NodeStatus): void {
    const error = this.setupErrors.get(node.id);
    if (error === undefined) return;
    this.markPhase(node, "Error", `task '${node.name}' errored: ${error}`);
  }

  /** Argo's assessDAGPhase over the created task nodes. */
  private assessDagPhase(
    dagNode: NodeStatus,
    targets: string[],
    taskNodes: Map<string, NodeStatus>,
    tasks: Map<string, DAGTask>,
    failFast: boolean,
    onExit: boolean,
  ): NodePhase {
    if (this.shutdown && !onExit) return "Failed";
    const targetIds = new Map<string, string>();
    for (const t of targets) {
      const n = taskNodes.get(t);
      if (n) targetIds.set(n.id, t);
    }
    const branch = new Map<string, NodePhase>();
    const seen = new Set<string>();
    const queue: { id: string; phase: NodePhase }[] = (dagNode.children ?? []).map((id) => ({
      id,
      phase: "Succeeded",
    }));
    for (let qi = 0; qi < queue.length; qi++) {
      const { id, phase } = queue[qi] as { id: string; phase: NodePhase };
      const n = this.nodes[id];
      if (!n) continue;
      const p: NodePhase = isCompleted(n.phase) ? n.phase : phase;
      if (targetIds.has(id)) {
        const prev = branch.get(id);
        if (!prev || !isFailedOrError(prev)) branch.set(id, p);
      }
      const key = id + "|" + p;
      if (seen.has(key)) continue;
      seen.add(key);
      let next = n.children ?? [];
      if (n.type === "Retry") {
        // A Retry node mirrors its last attempt; the traversal goes on from that attempt's children.
        const attempts = next.filter((c) => this.nodes[c]?.nodeFlag?.retried);
        const last = attempts[attempts.length - 1];
        next = last ? (this.nodes[last]?.children ?? []) : [];
      }
      for (const c of next) {
        const child = this.nodes[c];
        if (child?.nodeFlag?.hooked) continue;
        queue.push({ id: c, phase: p });
      }
    }
    let result: NodePhase = "Succeeded";
    for (const t of targets) {
      const n = taskNodes.get(t);
      if (!n) continue;
      const p = branch.get(n.id) ?? n.phase;
      const task = tasks.get(t);
      if (isFailedOrError(p) && !continues(task, p)) {
        result = p;
        if (failFast) break;
      }
    }
    return result;
  }
}
