import { randomUUID } from "node:crypto";
import { SkiffError } from "../errors/index.js";
import type { TimerHandle } from "../interfaces/clock.js";
import type { MemoCache } from "../interfaces/memo.js";
import type { CompiledWorkflow } from "../spec/compiled.js";
import type { Artifact, NodePhase, NodeStatus, Workflow, WorkflowPhase } from "../spec/types.js";
import { CONTROLLER_CODES } from "./codes.js";
import {
  DEADLINE_MESSAGE,
  iso,
  messageOf,
  NodeOutcome,
  type OperatorContext,
  type RunningPod,
  type SuspendWaiter,
} from "./context.js";
import { computeProgress, isExecutable, isFailedOrError, isFulfilled } from "./graph.js";
import { defaultSyncManager, Limiter, type LockRequest, type SyncManager } from "./limits.js";
import { TemplateResolver } from "./stored.js";
import { matchesSelector } from "./support.js";
import type { ControllerOptions } from "./types.js";
import * as dag from "./dag.js";
import * as globals from "./globals.js";
import * as hooks from "./hooks.js";
import * as inputs from "./inputs.js";
import * as memoization from "./memoization.js";
import * as metrics from "./metrics.js";
import * as nodes from "./nodes.js";
import * as persistence from "./persistence.js";
import * as pod from "./pod.js";
import * as retryStrategy from "./retry-strategy.js";
import * as scope from "./scope.js";
import * as steps from "./steps.js";
import * as suspend from "./suspend.js";
import * as synchronization from "./synchronization.js";
import * as template from "./template.js";

const C = CONTROLLER_CODES;

/**
 * The workflow operator: one workflow run's state, and the wiring of the concept modules that act on it
 * (steps.ts, dag.ts, pod.ts, retry-strategy.ts, hooks.ts, ...). Each invocation (steps group, DAG task,
 * retry attempt) is an async function that resolves when its node is fulfilled, so a finished step starts
 * its dependents at once and no pass re-walks the tree; see docs/decisions/0006-controller-execution-model.md.
 */
export class WorkflowOperator implements OperatorContext {
  readonly wf: Workflow;
  readonly name: string;
  readonly nodes: Record<string, NodeStatus>;
  readonly globals = new Map<string, string | null>();
  readonly childSets = new Map<string, Set<string>>();
  readonly running = new Set<RunningPod>();
  /** Pod nodes the persisted status left Running or Pending, by id: the executor may still run them. */
  readonly recovering = new Map<string, NodePhase>();
  readonly suspends = new Set<SuspendWaiter>();
  readonly waitingLocks = new Map<string, { node: NodeStatus; cancel: (e: Error) => void }>();
  readonly backoffs = new Set<{ node: NodeStatus; cancel: () => void }>();
  readonly phaseListeners = new Map<string, (() => void)[]>();
  readonly workflowLimiter: Limiter | undefined;
  readonly memo: MemoCache;
  readonly sync: SyncManager;
  readonly namespace: string;
  shutdown: "" | "Stop" | "Terminate" = "";
  cancelWorkflowLock: ((e: Error) => void) | undefined;
  /** Supplied suspend outputs set through `setOutputParameters` (Argo drops their valueFrom then). */
  readonly suppliedSet = new Set<string>();
  deadline: number | undefined;
  deadlineExceeded = false;
  deadlineTimer: TimerHandle | undefined;
  suspended = false;
  suspendWaiters: (() => void)[] = [];
  execDone = 0;
  execTotal = 0;
  dirty = false;
  flushScheduled = false;
  flushing: Promise<void> = Promise.resolve();
  putQueued = false;
  /** Nodes changed since the last put (ids), so the store writes those only; the first put is whole. */
  readonly changedNodes = new Set<string>();
  /** Nodes not fulfilled yet: their fields change in many places, so every put carries them. */
  readonly activeNodes = new Set<string>();
  wholePut = true;
  finished = false;
  wfHookRuns: Promise<unknown>[] = [];
  wfHooksFired = new Set<string>();
  readonly startedAtMs: number;
  /** Hook checks the re-evaluation timer runs (workflow hooks, and hooks of steps not fulfilled yet). */
  readonly hookChecks = new Set<() => void>();
  hookTimer: TimerHandle | undefined;
  readonly templates: TemplateResolver;
  readonly creationMs: number;
  readonly globalArtifacts = new Map<string, Artifact>();
  /** Nodes whose template could not even be set up (Argo's executeTemplate returning an error), by ID. */
  readonly setupErrors = new Map<string, string>();
  readonly daemonsAll = new Set<RunningPod>();

  constructor(
    readonly compiled: CompiledWorkflow,
    readonly options: ControllerOptions,
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
    this.memo = options.memoCache ?? new memoization.InMemoryMemoCache();
    this.sync = options.synchronization ?? defaultSyncManager;
    if (this.wf.spec.shutdown) this.shutdown = this.wf.spec.shutdown;
    if (this.wf.spec.suspend) this.suspended = true;
    const specIsStored = persisted?.status?.storedWorkflowTemplateSpec !== undefined;
    if (this.wf.spec.workflowTemplateRef && !specIsStored)
      status.storedWorkflowTemplateSpec = structuredClone(compiled.workflow.spec);
    this.templates = new TemplateResolver(compiled, status, this.wf.spec, specIsStored, () => this.touch());
  }

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

  async finish(phase: WorkflowPhase, message: string | undefined): Promise<Workflow> {
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

  setWorkflowPhase(phase: WorkflowPhase, message?: string): void {
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

  onDeadline(): void {
    this.deadlineExceeded = true;
    for (const pod of [...this.running]) {
      if (!pod.onExit) this.killPod(pod, "Failed", DEADLINE_MESSAGE);
    }
    for (const s of [...this.suspends]) s.resolve({ phase: "Failed", message: DEADLINE_MESSAGE });
    for (const w of [...this.waitingLocks.values()]) w.cancel(new NodeOutcome("Failed", DEADLINE_MESSAGE));
    for (const b of [...this.backoffs]) b.cancel();
  }

  // The services of the concept modules, each bound to this run (see OperatorContext).
  readonly initGlobals: OperatorContext["initGlobals"] = (...a) => globals.initGlobals(this, ...a);
  readonly globalVars: OperatorContext["globalVars"] = (...a) => globals.globalVars(this, ...a);
  readonly configMapValue: OperatorContext["configMapValue"] = (...a) => globals.configMapValue(this, ...a);
  readonly exportGlobalParameter: OperatorContext["exportGlobalParameter"] = (...a) =>
    globals.exportGlobalParameter(this, ...a);
  readonly exportOutputs: OperatorContext["exportOutputs"] = (...a) => globals.exportOutputs(this, ...a);
  readonly idOf: OperatorContext["idOf"] = (...a) => nodes.idOf(this, ...a);
  readonly nodeByName: OperatorContext["nodeByName"] = (...a) => nodes.nodeByName(this, ...a);
  readonly createNode: OperatorContext["createNode"] = (...a) => nodes.createNode(this, ...a);
  readonly markPhase: OperatorContext["markPhase"] = (...a) => nodes.markPhase(this, ...a);
  readonly addChild: OperatorContext["addChild"] = (...a) => nodes.addChild(this, ...a);
  readonly onPhaseChange: OperatorContext["onPhaseChange"] = (...a) => nodes.onPhaseChange(this, ...a);
  readonly errorNode: OperatorContext["errorNode"] = (...a) => nodes.errorNode(this, ...a);
  readonly skippedNode: OperatorContext["skippedNode"] = (...a) => nodes.skippedNode(this, ...a);
  readonly emit: OperatorContext["emit"] = (...a) => persistence.emit(this, ...a);
  readonly touch: OperatorContext["touch"] = (...a) => persistence.touch(this, ...a);
  readonly flush: OperatorContext["flush"] = (...a) => persistence.flush(this, ...a);
  readonly executeTemplate: OperatorContext["executeTemplate"] = (...a) =>
    template.executeTemplate(this, ...a);
  readonly executeNode: OperatorContext["executeNode"] = (...a) => template.executeNode(this, ...a);
  readonly templateVars: OperatorContext["templateVars"] = (...a) => inputs.templateVars(this, ...a);
  readonly processInputs: OperatorContext["processInputs"] = (...a) => inputs.processInputs(this, ...a);
  readonly checkMemo: OperatorContext["checkMemo"] = (...a) => memoization.checkMemo(this, ...a);
  readonly saveMemo: OperatorContext["saveMemo"] = (...a) => memoization.saveMemo(this, ...a);
  readonly executeRetry: OperatorContext["executeRetry"] = (...a) => retryStrategy.executeRetry(this, ...a);
  readonly tripFailFast: OperatorContext["tripFailFast"] = (...a) => synchronization.tripFailFast(this, ...a);
  readonly lockRequests: OperatorContext["lockRequests"] = (...a) => synchronization.lockRequests(this, ...a);
  readonly pendingDeadline: OperatorContext["pendingDeadline"] = (...a) =>
    synchronization.pendingDeadline(this, ...a);
  readonly untilPendingDeadline: OperatorContext["untilPendingDeadline"] = (...a) =>
    synchronization.untilPendingDeadline(this, ...a);
  readonly lockMessage: OperatorContext["lockMessage"] = (...a) => synchronization.lockMessage(this, ...a);
  readonly acquireNodeLocks: OperatorContext["acquireNodeLocks"] = (...a) =>
    synchronization.acquireNodeLocks(this, ...a);
  readonly newBoundary: OperatorContext["newBoundary"] = (...a) => synchronization.newBoundary(this, ...a);
  readonly executeLeaf: OperatorContext["executeLeaf"] = (...a) => pod.executeLeaf(this, ...a);
  readonly killPod: OperatorContext["killPod"] = (...a) => pod.killPod(this, ...a);
  readonly killDaemons: OperatorContext["killDaemons"] = (...a) => pod.killDaemons(this, ...a);
  readonly killAllDaemons: OperatorContext["killAllDaemons"] = (...a) => pod.killAllDaemons(this, ...a);
  readonly resumeAll: OperatorContext["resumeAll"] = (...a) => suspend.resumeAll(this, ...a);
  readonly whileSuspended: OperatorContext["whileSuspended"] = (...a) => suspend.whileSuspended(this, ...a);
  readonly executeSuspend: OperatorContext["executeSuspend"] = (...a) => suspend.executeSuspend(this, ...a);
  readonly checkSuppliedDefaults: OperatorContext["checkSuppliedDefaults"] = (...a) =>
    suspend.checkSuppliedDefaults(this, ...a);
  readonly fillSuppliedDefaults: OperatorContext["fillSuppliedDefaults"] = (...a) =>
    suspend.fillSuppliedDefaults(this, ...a);
  readonly executeSteps: OperatorContext["executeSteps"] = (...a) => steps.executeSteps(this, ...a);
  readonly resolveInvocation: OperatorContext["resolveInvocation"] = (...a) =>
    scope.resolveInvocation(this, ...a);
  readonly resolveArtifactArg: OperatorContext["resolveArtifactArg"] = (...a) =>
    scope.resolveArtifactArg(this, ...a);
  readonly expandLoop: OperatorContext["expandLoop"] = (...a) => scope.expandLoop(this, ...a);
  readonly shouldExecute: OperatorContext["shouldExecute"] = (...a) => scope.shouldExecute(this, ...a);
  readonly recordSibling: OperatorContext["recordSibling"] = (...a) => scope.recordSibling(this, ...a);
  readonly recordLoop: OperatorContext["recordLoop"] = (...a) => scope.recordLoop(this, ...a);
  readonly templateOutputs: OperatorContext["templateOutputs"] = (...a) => scope.templateOutputs(this, ...a);
  readonly runStepHooks: OperatorContext["runStepHooks"] = (...a) => hooks.runStepHooks(this, ...a);
  readonly watchStepHooks: OperatorContext["watchStepHooks"] = (...a) => hooks.watchStepHooks(this, ...a);
  readonly hasTimedWorkflowHooks: OperatorContext["hasTimedWorkflowHooks"] = (...a) =>
    hooks.hasTimedWorkflowHooks(this, ...a);
  readonly onHookTimer: OperatorContext["onHookTimer"] = (...a) => hooks.onHookTimer(this, ...a);
  readonly evaluateWorkflowHooks: OperatorContext["evaluateWorkflowHooks"] = (...a) =>
    hooks.evaluateWorkflowHooks(this, ...a);
  readonly runWorkflowExitHandler: OperatorContext["runWorkflowExitHandler"] = (...a) =>
    hooks.runWorkflowExitHandler(this, ...a);
  readonly executeDag: OperatorContext["executeDag"] = (...a) => dag.executeDag(this, ...a);
  readonly emitNodeMetrics: OperatorContext["emitNodeMetrics"] = (...a) =>
    metrics.emitNodeMetrics(this, ...a);
  readonly emitWorkflowMetrics: OperatorContext["emitWorkflowMetrics"] = (...a) =>
    metrics.emitWorkflowMetrics(this, ...a);
}
