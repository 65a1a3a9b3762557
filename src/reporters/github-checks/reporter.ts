import { workflowUiUrl } from "../links.js";
import { SkiffError } from "../../../runtime/errors/index.js";
import type { Clock, TimerHandle } from "../../../runtime/interfaces/clock.js";
import type { ControllerEvent, ControllerEventListener } from "../../../runtime/interfaces/events.js";
import type { CompiledWorkflow, TemplateScope } from "../../../runtime/spec/compiled.js";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import type { RunEvent, RunReporter } from "../events.js";
import {
  ANNOTATIONS_PER_REQUEST,
  parseLogAnnotation,
  stepFailureAnnotation,
  workflowCommands,
} from "./annotations.js";
import {
  GitHubRequestError,
  type CheckAnnotation,
  type CheckConclusion,
  type CheckRunFields,
  type CheckRunOutput,
  type GitHubClient,
  type WriteResult,
} from "./client.js";
import { GH_CODES } from "./codes.js";
import {
  DEFAULT_GROUP_THRESHOLD,
  groupCheckName,
  groupConclusion,
  loopItemOf,
  loopName,
  renderGroupOutput,
} from "./groups.js";
import { conclusionOf, isLeafStep, maskSecrets, stepName } from "./markdown.js";
import {
  renderStepOutput,
  renderRejection,
  renderWorkflowOutput,
  stepCheckName,
  workflowCheckName,
  type LogTail,
  type RenderContext,
} from "./outputs.js";
import { WritePacer } from "./pacer.js";

/** `checks` input: one check per workflow and per leaf step, one per workflow, or none. */
export type ChecksMode = "steps" | "workflow" | "none";

/**
 * GitHub's limits the reporter keeps to. Content-creating requests are limited to 80 a minute and 500 an
 * hour (secondary rate limits); a check run's annotations go 50 per request; a check suite holds at most
 * 1,000 check runs.
 */
export interface ReportingLimits {
  writesPerMinute: number;
  writesPerHour: number;
  /** Writes of each minute kept for the workflow's own check and failed steps. */
  reservedWritesPerMinute: number;
  /** Check runs one run creates at most (a check suite holds 1,000). */
  maxCheckRuns: number;
  /**
   * A step's check is created this long (ms) after the step starts: a step that ends sooner costs one
   * request (its check created completed), a longer one two (created in progress, then completed).
   */
  createDelayMs: number;
  /** Loops with more items than this report as one check run; 0: every item has its own. */
  groupThreshold: number;
  /** Attempts of one request when GitHub answers 5xx or a rate limit. */
  maxAttempts: number;
  /** First backoff; doubled on each further attempt. */
  baseBackoffMs: number;
  /** A `Retry-After` (or a wait for the limits) longer than this is not waited for: reporting falls back. */
  maxRetryWaitMs: number;
  /** Annotations kept per check run (sent 50 per request). */
  maxAnnotationsPerCheck: number;
  /** Log lines shown at the end of a step's check. */
  logTailLines: number;
  /** While a workflow runs, its check's table is refreshed at most this often (ms) as steps finish. */
  refreshIntervalMs: number;
}

export const DEFAULT_LIMITS: ReportingLimits = {
  writesPerMinute: 80,
  writesPerHour: 500,
  reservedWritesPerMinute: 4,
  maxCheckRuns: 1000,
  createDelayMs: 5000,
  groupThreshold: DEFAULT_GROUP_THRESHOLD,
  maxAttempts: 4,
  baseBackoffMs: 1000,
  maxRetryWaitMs: 120_000,
  maxAnnotationsPerCheck: 200,
  logTailLines: 40,
  refreshIntervalMs: 30_000,
};

export interface GitHubChecksReporterOptions {
  client: GitHubClient;
  clock: Clock;
  /** The commit the check runs are attached to. */
  headSha: string;
  checks: ChecksMode;
  /** The checkout: annotation paths are made relative to it. */
  workspace: string;
  /** Values masked in every output (the action's secrets). */
  secrets?: readonly string[];
  jobUrl?: string;
  /** `skiff server`'s (or Argo's) URL: check runs link to the workflow's page in its UI (`details_url`). */
  serverUrl?: string;
  limits?: Partial<ReportingLimits>;
  /** Called once, when reporting gives up on GitHub and falls back to the job summary. */
  onFallback?: (error: SkiffError) => void;
  /**
   * Called when a check run is created or completed, with the checks still open (for the post step); and by
   * `finish()`, with `finished`, when checks are still open because GitHub did not take their last update.
   */
  onOpenChecksChanged?: (open: readonly OpenCheck[], finished: boolean) => void;
  /** How long `finish()` waits for GitHub to take every update (ms; default 5 minutes). */
  finishTimeoutMs?: number;
  /**
   * Where `finish()` writes the annotations GitHub did not receive, as workflow commands (`::error ...`), when
   * reporting fell back: the job log. Unset: they are not written.
   */
  writeCommand?: (line: string) => void;
}

/** A check run created and not yet completed. */
export interface OpenCheck {
  id: number;
  name: string;
  /**
   * The completed state GitHub did not take: the workflow's (or step's) true conclusion, which the post step
   * sends. Unset while the check's workflow or step is still running.
   */
  result?: CheckResult;
}

/** A check run's final state, kept for the post step when GitHub did not take it. */
export interface CheckResult {
  conclusion: CheckConclusion;
  completed_at: string;
  title: string;
  summary: string;
}

/** GitHub shows at most this many error (and warning) workflow commands of one step. */
const WORKFLOW_COMMAND_LIMIT = 10;

/**
 * Turns a run's events into GitHub check runs without ever making the workflow wait. Attach it to a run as a
 * {@link RunReporter}: it opens a check per workflow (and per leaf step), a failed check for a pipeline that
 * cannot compile, a neutral one for pipelines `[skip ci]` skipped; `finish()` waits for GitHub, then hands
 * what GitHub did not take to `onOpenChecksChanged` and `writeCommand`.
 */
export interface GitHubChecksReporter extends RunReporter {
  /** Never throws, never awaits. */
  onEvent(event: RunEvent): void;
  /** Flushes (within `finishTimeoutMs`), then reports what stayed open or unsent. Never rejects. */
  finish(): Promise<void>;
  /** The listener for one workflow's events. Never throws, never awaits. */
  listener(compiled: CompiledWorkflow, pipeline: string): ControllerEventListener;
  /** A completed check for a pipeline that did not run (`[skip ci]`, filters), neutral by default. */
  reportNotRun(name: string, title: string, summary: string, conclusion?: CheckConclusion): void;
  /** Resolves when everything queued is sent or given up on, or after `timeoutMs` of the clock. Never rejects. */
  flush(timeoutMs?: number): Promise<void>;
  /** Reporting gave up on GitHub (or `checks: none`): annotations go to workflow commands instead. */
  readonly fellBack: boolean;
  /** Requests sent to GitHub, retries included. */
  readonly requests: number;
  /** Annotations GitHub did not receive, failures first: the Action prints them as `::error` commands. */
  unsentAnnotations(): CheckAnnotation[];
  openChecks(): OpenCheck[];
  /**
   * What the check runs do not show one by one, for the job summary: loops grouped into one check run,
   * steps left without a check run of their own because of GitHub's limits.
   */
  reportingNotes(): string[];
}

interface AnnotationEntry {
  annotation: CheckAnnotation;
  /** The level was guessed (no `error:`/`warning:` in the line): failure if the step fails, else warning. */
  inferred: boolean;
}

/**
 * One check run and what is owed to it. Its state is rendered when its request goes out, so however many
 * events came in while it waited, GitHub receives the latest state only.
 */
interface Check {
  name: string;
  kind: "workflow" | "step" | "group" | "not-run";
  id?: number;
  /** Waiting in the queue. */
  queued: boolean;
  /** When it was queued: among writes of the same priority, first come, first served. */
  seq: number;
  /** Its first write waits until then, unless what it shows is final before (see `createDelayMs`). */
  holdUntil?: number;
  /** The last state sent was `completed`. */
  closed: boolean;
  /** Replaced by its loop's check before it was ever sent: it will never be. */
  dropped: boolean;
  /** Keys of the annotations GitHub has (see {@link annotationKey}). */
  sent: Set<string>;
  /** The UI page the check run links to, read when it is created (the workflow's name may come late). */
  detailsUrl?: () => string | undefined;
  /** What it shows is final: the next write completes it. Cheap (no rendering). */
  done(): boolean;
  /** It shows a failure (only read once done). */
  failed(): boolean;
  render(): { fields: CheckRunFields; output: CheckRunOutput; annotations: CheckAnnotation[] };
}

/** A loop reported as one check run. */
interface LoopGroup {
  key: string;
  check: Check;
  /** The node whose children the items are (the TaskGroup of a DAG task, the StepGroup of a step). */
  parentId?: string;
}

interface WorkflowState {
  compiled: CompiledWorkflow;
  pipeline: string;
  workflow?: Workflow;
  check?: Check;
  /** The workflow finished: nothing of it waits any longer. */
  ended: boolean;
  steps: Map<string, Check>;
  /** Item node ids of each loop, by loop key (see {@link loopItemOf}). */
  loops: Map<string, Set<string>>;
  groups: Map<string, LoopGroup>;
  /** Attempt node id -> its Retry node id. */
  attemptOf: Map<string, string>;
  logs: Map<string, { lines: string[]; total: number }>;
  annotations: Map<string, AnnotationEntry[]>;
  /** Steps not given their own check because of GitHub's limits (the hour's requests, a suite's size). */
  folded: Set<string>;
  /** A pending refresh of the workflow's check. */
  refresh?: TimerHandle;
}

/** Creates the check-run reporter. */
export function createGitHubChecksReporter(options: GitHubChecksReporterOptions): GitHubChecksReporter {
  return new ChecksReporter(options);
}

class ChecksReporter implements GitHubChecksReporter {
  private readonly limits: ReportingLimits;
  private readonly secrets: string[];
  private readonly queue: Check[] = [];
  private readonly all: Check[] = [];
  private readonly workflows: WorkflowState[] = [];
  private readonly pacer: WritePacer;
  private writes = 0;
  private nextSeq = 0;
  private pumping = false;
  /** The check whose request is out: it cannot be dropped any more. */
  private sending: Check | undefined;
  /** Wakes the pump before its timer when something new is queued or released. */
  private wake: (() => void) | undefined;
  /** `finish()` started: nothing is held back any longer. */
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private fallen: boolean;
  private readonly notRun: CheckAnnotation[] = [];
  /** The controller-event listener of each running workflow, by its index in the run. */
  private readonly running = new Map<number, ControllerEventListener>();

  constructor(private readonly options: GitHubChecksReporterOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...(options.limits ?? {}) };
    this.secrets = [...(options.secrets ?? [])];
    this.fallen = options.checks === "none";
    this.pacer = new WritePacer({
      clock: options.clock,
      perMinute: this.limits.writesPerMinute,
      perHour: this.limits.writesPerHour,
      reserved: Math.min(this.limits.reservedWritesPerMinute, this.limits.writesPerMinute - 1),
    });
  }

  get fellBack(): boolean {
    return this.fallen;
  }

  get requests(): number {
    return this.writes;
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case "skipped":
        if (event.skipCi && event.reason.includes(event.skipCi))
          this.reportNotRun(
            event.pipeline,
            `Skipped: the head commit says ${event.skipCi}`,
            `The head commit's message contains \`${event.skipCi}\`, so ${event.pipeline} did not run.`,
            "neutral",
          );
        return;
      case "rejected":
        if (event.stage === "compile")
          this.reportNotRun(
            event.pipeline,
            `Rejected: ${event.error.code} ${event.error.message}`.slice(0, 255),
            renderRejection(event.error, this.options.workspace),
            "failure",
          );
        return;
      case "workflow-starting":
        this.running.set(event.index, this.listener(event.compiled, event.pipeline));
        return;
      case "controller":
        this.running.get(event.index)?.(event.event);
        return;
      case "workflow-completed":
        this.running.delete(event.index);
        return;
    }
  }

  async finish(): Promise<void> {
    this.draining = true;
    this.wake?.();
    await this.flush(this.options.finishTimeoutMs ?? 5 * 60_000);
    // Checks still open now lost their last update to a GitHub failure; the post step completes them with
    // the result they were meant to get, never a conclusion that contradicts the workflow's.
    const open = this.all
      .filter((c) => c.id !== undefined && !c.closed)
      .map((c): OpenCheck => {
        const result = resultOf(c);
        return { id: c.id!, name: c.name, ...(result ? { result } : {}) };
      });
    if (open.length > 0) this.options.onOpenChecksChanged?.(open, true);
    if (this.fallen && this.options.writeCommand)
      for (const line of workflowCommands(this.unsentAnnotations(), WORKFLOW_COMMAND_LIMIT))
        this.options.writeCommand(line);
  }

  listener(compiled: CompiledWorkflow, pipeline: string): ControllerEventListener {
    const state: WorkflowState = {
      compiled,
      pipeline,
      ended: false,
      steps: new Map(),
      loops: new Map(),
      groups: new Map(),
      attemptOf: new Map(),
      logs: new Map(),
      annotations: new Map(),
      folded: new Set(),
    };
    this.workflows.push(state);
    return (event) => {
      try {
        this.onControllerEvent(state, event);
      } catch {
        // Reporting must never break the run; a rendering bug only costs a check's freshness.
      }
    };
  }

  reportNotRun(name: string, title: string, summary: string, conclusion: CheckConclusion = "neutral"): void {
    if (this.options.checks === "none") return;
    const now = new Date(this.options.clock.now()).toISOString();
    const check = this.newCheck(name, "not-run", {
      done: () => true,
      failed: () => conclusion === "failure",
      render: () => ({
        fields: { status: "completed", conclusion, completed_at: now },
        output: { title, summary: maskSecrets(summary, this.secrets) },
        annotations: [],
      }),
    });
    this.enqueue(check);
  }

  unsentAnnotations(): CheckAnnotation[] {
    const out: CheckAnnotation[] = [...this.notRun];
    for (const wf of this.workflows) {
      const checks = [
        ...(wf.check ? [wf.check] : []),
        ...wf.steps.values(),
        ...[...wf.groups.values()].map((g) => g.check),
      ];
      const sent = new Set<string>();
      for (const c of checks) for (const k of c.sent) sent.add(k);
      for (const a of this.allAnnotations(wf)) if (!sent.has(annotationKey(a))) out.push(a);
    }
    const rank = { failure: 0, warning: 1, notice: 2 };
    return out.sort((a, b) => rank[a.annotation_level] - rank[b.annotation_level]);
  }

  openChecks(): OpenCheck[] {
    return this.all.filter((c) => c.id !== undefined && !c.closed).map((c) => ({ id: c.id!, name: c.name }));
  }

  reportingNotes(): string[] {
    const notes: string[] = [];
    for (const state of this.workflows) {
      const wfName = state.workflow?.metadata.name ?? "";
      for (const group of state.groups.values()) {
        const items = state.loops.get(group.key)?.size ?? 0;
        notes.push(
          `${state.pipeline}: the ${items} items of loop \`${loopName(group.key, wfName)}\` are reported as one check run, \`${group.check.name}\` (loops of more than ${this.limits.groupThreshold} items are grouped).`,
        );
      }
      if (state.folded.size > 0)
        notes.push(
          `${state.pipeline}: ${state.folded.size} steps have no check run of their own: ${this.limitsText()}. They are in the pipeline's check and in this summary.`,
        );
    }
    return notes;
  }

  flush(timeoutMs?: number): Promise<void> {
    if (this.fallen || (!this.pumping && this.queue.length === 0)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: ReturnType<Clock["setTimer"]> | undefined;
      const done = () => {
        if (timer) this.options.clock.clearTimer(timer);
        resolve();
      };
      this.idleWaiters.push(done);
      if (timeoutMs !== undefined)
        timer = this.options.clock.setTimer(timeoutMs, () => {
          this.fallBack(
            new SkiffError(
              GH_CODES["SKF-GH-002"],
              `GitHub did not take every check-run update within ${Math.round(timeoutMs / 1000)}s`,
            ),
          );
        });
    });
  }

  // ---- events ------------------------------------------------------------------------------------------

  private onControllerEvent(state: WorkflowState, event: ControllerEvent): void {
    switch (event.type) {
      case "workflow-started":
        state.workflow = event.workflow;
        this.workflowCheck(state);
        return;
      case "workflow-updated":
        state.workflow = event.workflow;
        return;
      case "node-updated": {
        state.workflow = event.workflow;
        const node = event.node;
        if (node.type === "Retry") for (const c of node.children ?? []) state.attemptOf.set(c, node.id);
        if (!isLeafStep(event.workflow, node)) {
          const parent = state.attemptOf.get(node.id);
          if (parent) for (const c of this.checksOf(state, parent)) this.markDirty(c);
          // A loop's TaskGroup or StepGroup ended: no more items come, its check can be completed.
          for (const g of state.groups.values()) if (g.parentId === node.id) this.markDirty(g.check);
          return;
        }
        if (this.options.checks === "steps") this.stepUpdated(state, node);
        if (isFinished(node.phase) && node.phase !== event.previousPhase) this.scheduleRefresh(state);
        return;
      }
      case "log": {
        const nodeId = event.line.nodeId;
        const owner = state.attemptOf.get(nodeId) ?? nodeId;
        let buf = state.logs.get(nodeId);
        if (!buf) state.logs.set(nodeId, (buf = { lines: [], total: 0 }));
        buf.lines.push(event.line.text);
        buf.total++;
        if (buf.lines.length > this.limits.logTailLines) buf.lines.shift();
        const name = state.workflow?.status?.nodes?.[owner];
        const a = parseLogAnnotation(event.line.text, {
          workspace: this.options.workspace,
          defaultLevel: "failure",
          title: name && state.workflow ? stepName(name, state.workflow.metadata.name ?? "") : undefined,
        });
        if (a) {
          const list = state.annotations.get(owner) ?? [];
          if (list.length < this.limits.maxAnnotationsPerCheck) {
            const sev = /\b(error|warning|warn|note|info|notice)\b/i.test(event.line.text.slice(0, 200));
            a.message = maskSecrets(a.message, this.secrets);
            list.push({ annotation: a, inferred: !sev });
            state.annotations.set(owner, list);
          }
        }
        return;
      }
      case "workflow-finished":
        state.workflow = event.workflow;
        state.ended = true;
        if (state.refresh) this.options.clock.clearTimer(state.refresh);
        state.refresh = undefined;
        // Nothing of a finished workflow waits: what is still held goes out as fast as the limits allow.
        for (const c of [...state.steps.values(), ...[...state.groups.values()].map((g) => g.check)]) {
          c.holdUntil = undefined;
          this.markDirty(c);
        }
        if (state.check) this.markDirty(state.check);
        else this.workflowCheck(state);
        this.wake?.();
        return;
    }
  }

  /** The checks that show a node: its own, and its loop's when the loop is grouped. */
  private checksOf(state: WorkflowState, nodeId: string): Check[] {
    const out: Check[] = [];
    const own = state.steps.get(nodeId);
    if (own && !own.dropped) out.push(own);
    const node = state.workflow?.status?.nodes?.[nodeId];
    const loop = node ? loopItemOf(node) : undefined;
    const group = loop ? state.groups.get(loop.key) : undefined;
    if (group) out.push(group.check);
    return out;
  }

  /** A leaf step changed: its own check, or its loop's once the loop has more items than the threshold. */
  private stepUpdated(state: WorkflowState, node: NodeStatus): void {
    const loop = loopItemOf(node);
    if (loop && this.limits.groupThreshold > 0) {
      let items = state.loops.get(loop.key);
      if (!items) state.loops.set(loop.key, (items = new Set()));
      items.add(node.id);
      if (!state.groups.has(loop.key) && items.size > this.limits.groupThreshold)
        this.groupLoop(state, loop.key, node);
      if (state.groups.has(loop.key)) {
        for (const c of this.checksOf(state, node.id)) this.markDirty(c);
        return;
      }
    }
    this.stepCheck(state, node);
  }

  private workflowCheck(state: WorkflowState): void {
    if (this.options.checks === "none" || state.check) return;
    const phaseOf = () => state.workflow?.status?.phase;
    const done = () => {
      const phase = phaseOf();
      return phase === "Succeeded" || phase === "Failed" || phase === "Error";
    };
    state.check = this.newCheck(workflowCheckName(state.pipeline), "workflow", {
      done,
      failed: () => phaseOf() !== "Succeeded",
      render: () => {
        const wf = state.workflow!;
        const phase = wf.status?.phase;
        const notes: string[] = [];
        if (state.groups.size > 0)
          notes.push(
            `Loops of more than ${this.limits.groupThreshold} items report as one check run each: ${[
              ...state.groups.values(),
            ]
              .map((g) => `\`${g.check.name}\``)
              .join(", ")}.`,
          );
        if (state.folded.size > 0)
          notes.push(
            `${state.folded.size} steps have no check run of their own: ${this.limitsText()}. They are all in the table above.`,
          );
        const annotations = this.workflowAnnotations(state);
        const dropped = this.annotationCount(state) - annotations.length;
        if (dropped > 0) notes.push(`${dropped} more annotations are not shown: see the job log.`);
        return {
          fields: done()
            ? {
                status: "completed",
                conclusion: conclusionOf(phase, wf.status?.message),
                completed_at: wf.status?.finishedAt ?? this.nowIso(),
              }
            : { status: "in_progress", started_at: wf.status?.startedAt ?? this.nowIso() },
          output: renderWorkflowOutput(wf, this.renderContext(state), { notes }),
          annotations,
        };
      },
    });
    state.check.detailsUrl = () => workflowUiUrl(this.options.serverUrl, state.workflow);
    this.markDirty(state.check);
  }

  /**
   * Writes left this hour beyond those already owed: completing each open check, and a final update of each
   * workflow's check.
   */
  private spareWrites(): number {
    const open = this.all.filter((c) => !c.closed && !c.dropped).length;
    return this.limits.writesPerHour - this.writes - open - this.workflows.length - 1;
  }

  /**
   * Checks that may still be given a write they are owed: as many as the pacing lets out within the wait
   * `finish()` grants, less a minute's margin. A burst of steps beyond that is listed in the workflow's
   * check instead, so that when the workflow ends nothing is left for GitHub to take after the job moved on.
   */
  private spareBacklog(): number {
    const minutes = Math.max(1, (this.options.finishTimeoutMs ?? 5 * 60_000) / 60_000 - 1);
    const perMinute = this.limits.writesPerMinute - this.limits.reservedWritesPerMinute;
    const owed = this.all.filter((c) => !c.closed && !c.dropped).length;
    return Math.floor(minutes * perMinute) - owed - this.workflows.length;
  }

  private limitsText(): string {
    return `GitHub takes ${this.limits.writesPerMinute} check-run requests a minute and ${this.limits.writesPerHour} an hour, and a check suite holds ${this.limits.maxCheckRuns} check runs`;
  }

  /** Check runs that may still be created: a suite holds {@link ReportingLimits.maxCheckRuns}. */
  private spareCheckRuns(): number {
    return this.limits.maxCheckRuns - this.all.filter((c) => !c.dropped).length;
  }

  /** Refreshes the workflow check's table a while after a step finishes, so bursts cost one request. */
  private scheduleRefresh(state: WorkflowState): void {
    if (state.refresh || !state.check || this.fallen || this.spareWrites() < 1) return;
    state.refresh = this.options.clock.setTimer(this.limits.refreshIntervalMs, () => {
      state.refresh = undefined;
      if (state.check && !state.check.closed) this.enqueue(state.check);
    });
  }

  /** A node as the workflow shows it now. */
  private current(state: WorkflowState, node: NodeStatus): NodeStatus {
    return state.workflow?.status?.nodes?.[node.id] ?? node;
  }

  private stepCheck(state: WorkflowState, node: NodeStatus): void {
    const existing = state.steps.get(node.id);
    if (existing) {
      this.markDirty(existing);
      return;
    }
    if (node.phase === "Pending" || state.folded.has(node.id)) return;
    // Each new check costs up to two requests: keep enough of the hour's budget for the updates of checks
    // already open and for the workflow checks, and room in the suite for the workflow checks still to come.
    if (this.spareWrites() < 2 || this.spareCheckRuns() < 2 || this.spareBacklog() < 1) {
      state.folded.add(node.id);
      return;
    }
    const check = this.newCheck(stepCheckName(state.pipeline, state.workflow!, node), "step", {
      done: () => isFinished(this.current(state, node).phase),
      failed: () => isFailed(this.current(state, node).phase),
      render: () => {
        const wf = state.workflow!;
        const current = this.current(state, node);
        return {
          fields: isFinished(current.phase)
            ? {
                status: "completed",
                conclusion: conclusionOf(current.phase, current.message),
                ...(current.startedAt ? { started_at: current.startedAt } : {}),
                completed_at: current.finishedAt ?? this.nowIso(),
              }
            : { status: "in_progress", started_at: current.startedAt ?? this.nowIso() },
          output: renderStepOutput(wf, current, this.logTail(state, current), this.renderContext(state)),
          annotations: this.stepAnnotations(state, current),
        };
      },
    });
    if (!state.ended) check.holdUntil = this.options.clock.now() + this.limits.createDelayMs;
    check.detailsUrl = () => workflowUiUrl(this.options.serverUrl, state.workflow, node.id);
    state.steps.set(node.id, check);
    this.markDirty(check);
  }

  /**
   * Reports a loop as one check from now on. Its items' own checks that GitHub has not seen yet are dropped;
   * those already created stay and are completed as usual.
   */
  private groupLoop(state: WorkflowState, key: string, item: NodeStatus): void {
    if (this.spareCheckRuns() < 2) return;
    const nodes = () => state.workflow?.status?.nodes ?? {};
    const items = () =>
      [...(state.loops.get(key) ?? [])]
        .map((id) => nodes()[id])
        .filter((n): n is NodeStatus => n !== undefined);
    const parentId = Object.values(nodes()).find((n) => n.children?.includes(item.id))?.id;
    const done = () => {
      if (!items().every((n) => isFinished(n.phase))) return false;
      // Items may still be added until the loop's parent finishes (or the workflow does).
      const parent = parentId ? nodes()[parentId] : undefined;
      return state.ended || (parent !== undefined && isFinished(parent.phase));
    };
    const wfName = state.workflow?.metadata.name ?? "";
    const check = this.newCheck(groupCheckName(state.pipeline, key, wfName), "group", {
      done,
      failed: () => groupConclusion(items()) === "failure",
      render: () => {
        const wf = state.workflow!;
        const list = items();
        const finished = done();
        const starts = list.map((n) => n.startedAt).filter((s): s is string => s !== undefined);
        const ends = list.map((n) => n.finishedAt).filter((s): s is string => s !== undefined);
        const annotations: CheckAnnotation[] = [];
        for (const n of list) {
          if (annotations.length >= this.limits.maxAnnotationsPerCheck) break;
          annotations.push(...this.stepAnnotations(state, n));
        }
        return {
          fields: finished
            ? {
                status: "completed",
                conclusion: groupConclusion(list),
                ...(starts.length > 0 ? { started_at: starts.sort()[0] } : {}),
                completed_at: ends.sort()[ends.length - 1] ?? this.nowIso(),
              }
            : { status: "in_progress", started_at: starts.sort()[0] ?? this.nowIso() },
          output: renderGroupOutput(
            wf,
            key,
            list,
            (n) => this.logTail(state, n),
            this.renderContext(state),
            finished,
          ),
          annotations: annotations.slice(0, this.limits.maxAnnotationsPerCheck),
        };
      },
    });
    if (!state.ended) check.holdUntil = this.options.clock.now() + this.limits.createDelayMs;
    state.groups.set(key, { key, check, ...(parentId ? { parentId } : {}) });
    for (const id of state.loops.get(key) ?? []) {
      const own = state.steps.get(id);
      if (own && own.id === undefined && own !== this.sending) this.drop(own);
    }
    this.markDirty(check);
  }

  private logTail(state: WorkflowState, node: NodeStatus): LogTail {
    const ids = node.type === "Retry" ? (node.children ?? []).slice(-1) : [node.id];
    const buf = ids.map((id) => state.logs.get(id)).find((b) => b !== undefined);
    if (!buf) return { lines: [], omitted: 0 };
    return { lines: buf.lines, omitted: buf.total - buf.lines.length };
  }

  /** The annotations of one step: its own failure at the template's line, then those from its log. */
  private stepAnnotations(state: WorkflowState, node: NodeStatus): CheckAnnotation[] {
    const out: CheckAnnotation[] = [];
    const failed = isFailed(node.phase);
    if (failed) {
      const a = this.failureAnnotation(state, node);
      if (a) out.push(a);
    }
    const finished = isFinished(node.phase);
    for (const e of state.annotations.get(node.id) ?? []) {
      if (e.inferred) {
        // A line without `error:`/`warning:` is as bad as the step's end: it waits for it.
        if (!finished) continue;
        e.annotation.annotation_level = failed ? "failure" : "warning";
      }
      out.push(e.annotation);
    }
    return out.slice(0, this.limits.maxAnnotationsPerCheck);
  }

  private annotationCount(state: WorkflowState): number {
    let n = 0;
    for (const list of state.annotations.values()) n += list.length;
    return n + Object.keys(state.workflow?.status?.nodes ?? {}).length;
  }

  private workflowAnnotations(state: WorkflowState): CheckAnnotation[] {
    // With step checks, annotations live on the steps; the workflow check repeats only the failures.
    const wf = state.workflow;
    if (!wf) return [];
    if (this.options.checks === "steps") {
      const out: CheckAnnotation[] = [];
      for (const n of Object.values(wf.status?.nodes ?? {})) {
        if (out.length >= ANNOTATIONS_PER_REQUEST) break;
        if (!isFailed(n.phase) || !isLeafStep(wf, n)) continue;
        const a = this.failureAnnotation(state, n);
        if (a) out.push(a);
      }
      return out;
    }
    return this.allAnnotations(state).slice(0, this.limits.maxAnnotationsPerCheck);
  }

  private allAnnotations(state: WorkflowState): CheckAnnotation[] {
    const wf = state.workflow;
    if (!wf) return [];
    const out: CheckAnnotation[] = [];
    for (const n of Object.values(wf.status?.nodes ?? {}))
      if (isLeafStep(wf, n)) out.push(...this.stepAnnotations(state, n));
    return out;
  }

  private failureAnnotation(state: WorkflowState, node: NodeStatus): CheckAnnotation | undefined {
    const compiled = state.compiled;
    const scope = scopeOf(compiled, node);
    const template = node.templateName ?? node.templateRef?.template;
    let position = template ? compiled.templatePosition(template, scope) : undefined;
    if (!position && node.templateRef) position = compiled.templatePosition(node.templateRef.template, scope);
    const wfName = state.workflow?.metadata.name ?? "";
    return stepFailureAnnotation(
      position,
      this.options.workspace,
      stepName(node, wfName),
      node.message ?? node.phase,
      this.secrets,
    );
  }

  private renderContext(state: WorkflowState): RenderContext {
    return {
      pipeline: state.pipeline,
      secrets: this.secrets,
      now: this.options.clock.now(),
      ...(this.options.jobUrl ? { jobUrl: this.options.jobUrl } : {}),
      ...(this.options.serverUrl ? { serverUrl: this.options.serverUrl } : {}),
    };
  }

  private nowIso(): string {
    return new Date(this.options.clock.now()).toISOString();
  }

  // ---- the queue ---------------------------------------------------------------------------------------

  private newCheck(
    name: string,
    kind: Check["kind"],
    behaviour: Pick<Check, "done" | "failed" | "render">,
  ): Check {
    const check: Check = {
      name,
      kind,
      queued: false,
      seq: 0,
      closed: false,
      dropped: false,
      sent: new Set(),
      ...behaviour,
    };
    this.all.push(check);
    return check;
  }

  /**
   * Something a check shows changed. A check GitHub already shows in progress is not written again until it
   * is final: the states in between would be overwritten before anyone looked. (The workflow's check is
   * refreshed on a timer instead, see {@link scheduleRefresh}.)
   */
  private markDirty(check: Check): void {
    if (check.dropped) return;
    if (check.closed && check.render().annotations.every((a) => check.sent.has(annotationKey(a)))) return;
    const shown = check.id !== undefined || check === this.sending;
    if (shown && !check.closed && !check.done()) return;
    this.enqueue(check);
  }

  private enqueue(check: Check): void {
    if (this.fallen || check.dropped) return;
    if (check.queued) {
      // A held check whose step just ended is ready now: the pump may be sleeping until its hold is over.
      if (check.holdUntil !== undefined && check.done()) this.wake?.();
      return;
    }
    check.queued = true;
    check.seq = this.nextSeq++;
    this.queue.push(check);
    if (!this.pumping) void this.pump();
    else this.wake?.();
  }

  private drop(check: Check): void {
    check.dropped = true;
    const i = this.queue.indexOf(check);
    if (i >= 0) this.queue.splice(i, 1);
    check.queued = false;
  }

  /** 0: the workflow's own check (and pipelines that did not run); 1: failed steps; 2: other results; 3: progress. */
  private priority(check: Check): number {
    if (check.kind === "workflow" || check.kind === "not-run") return 0;
    if (!check.done()) return 3;
    return check.failed() ? 1 : 2;
  }

  private ready(check: Check, now: number): boolean {
    return this.draining || check.holdUntil === undefined || check.holdUntil <= now || check.done();
  }

  /** The next check to write: the most urgent ready one, first queued first. */
  private next(now: number): Check | undefined {
    let best: Check | undefined;
    let bestPriority = Infinity;
    for (const c of this.queue) {
      if (!this.ready(c, now)) continue;
      const p = this.priority(c);
      if (p < bestPriority || (p === bestPriority && c.seq < best!.seq)) {
        best = c;
        bestPriority = p;
      }
    }
    return best;
  }

  /** Waits `ms` of the clock, or less when something is queued or released meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.options.clock.setTimer(ms, () => {
        this.wake = undefined;
        resolve();
      });
      this.wake = () => {
        this.wake = undefined;
        this.options.clock.clearTimer(timer);
        resolve();
      };
    });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      // Yield once so that a burst of events coalesces into one request per check.
      await Promise.resolve();
      while (!this.fallen && this.queue.length > 0) {
        const now = this.options.clock.now();
        const check = this.next(now);
        if (!check) {
          const until = Math.min(...this.queue.map((c) => c.holdUntil ?? now));
          await this.pause(Math.max(1, until - now));
          continue;
        }
        const urgent = this.priority(check) <= 1;
        const wait = this.pacer.delay(urgent);
        if (wait > this.limits.maxRetryWaitMs) {
          this.fallBack(this.tooLongWait(wait));
          break;
        }
        if (wait > 0) {
          // A more urgent write may come in meanwhile: choose again once the wait is over.
          await this.pause(wait);
          continue;
        }
        this.queue.splice(this.queue.indexOf(check), 1);
        check.queued = false;
        this.sending = check;
        try {
          await this.send(check, urgent);
        } catch (e) {
          this.fallBack(toSkiffError(e));
        } finally {
          this.sending = undefined;
        }
      }
    } finally {
      this.pumping = false;
      this.wake = undefined;
      if (this.queue.length === 0 || this.fallen) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      } else void this.pump();
    }
  }

  private async send(check: Check, urgent: boolean): Promise<void> {
    const { fields, output, annotations } = check.render();
    // Once completed, GitHub keeps the state: only further annotations need sending.
    const unsent = annotations.filter((a) => !check.sent.has(annotationKey(a)));
    const batch = unsent.slice(0, ANNOTATIONS_PER_REQUEST);
    if (check.closed && batch.length === 0) return;
    const withBatch = (degraded: boolean): CheckRunFields => ({
      ...fields,
      output: degraded
        ? { title: output.title, summary: output.summary.slice(0, 4000) }
        : { ...output, ...(batch.length > 0 ? { annotations: batch } : {}) },
    });
    if (check.id === undefined) {
      const detailsUrl = check.detailsUrl?.();
      const { id } = await this.request(urgent, (degraded) =>
        this.options.client.createCheckRun({
          name: check.name,
          head_sha: this.options.headSha,
          ...(detailsUrl ? { details_url: detailsUrl } : {}),
          ...withBatch(degraded),
        }),
      );
      check.id = id;
    } else {
      const id = check.id;
      await this.request(urgent, (degraded) => this.options.client.updateCheckRun(id, withBatch(degraded)));
    }
    for (const a of batch) check.sent.add(annotationKey(a));
    const wasClosed = check.closed;
    check.closed = fields.status === "completed";
    // More annotations than one request takes, or a change that came in while this request was out.
    if (unsent.length > batch.length || (!check.closed && check.done())) this.enqueue(check);
    if (!wasClosed) this.options.onOpenChecksChanged?.(this.openChecks(), false);
  }

  /**
   * One request with GitHub's limits kept and failures retried: rate limits wait for `Retry-After` (or the
   * reset), 5xx and network errors back off exponentially, 403/422 are tried once more (a 422 with a smaller
   * output, in case the output was what GitHub rejected). Throws when GitHub still refuses.
   */
  private async request<T extends WriteResult | void>(
    urgent: boolean,
    fn: (degraded: boolean) => Promise<T>,
  ): Promise<T> {
    let degraded = false;
    for (let attempt = 1; ; attempt++) {
      for (let wait = this.pacer.delay(urgent); wait > 0; wait = this.pacer.delay(urgent)) {
        if (wait > this.limits.maxRetryWaitMs) throw this.tooLongWait(wait);
        await this.options.clock.sleep(wait);
      }
      this.writes++;
      this.pacer.spend();
      try {
        const result = await fn(degraded);
        if (result) this.pacer.observe(result.rateLimit);
        return result;
      } catch (e) {
        const err =
          e instanceof GitHubRequestError ? e : new GitHubRequestError(0, String((e as Error)?.message ?? e));
        const refused = !err.rateLimited && (err.status === 403 || err.status === 422);
        const transient = err.rateLimited || err.status === 0 || err.status >= 500;
        const maxAttempts = refused ? 2 : transient ? this.limits.maxAttempts : 1;
        if (attempt >= maxAttempts || this.fallen) throw err;
        if (err.status === 422) degraded = true;
        const backoff = this.limits.baseBackoffMs * 2 ** (attempt - 1);
        const wait = err.retryAfterMs ?? (err.rateLimited ? Math.max(60_000, backoff) : backoff);
        if (wait > this.limits.maxRetryWaitMs) throw err;
        // Every write waits out a rate limit, not only this one.
        if (err.rateLimited) this.pacer.holdFor(wait);
        await this.options.clock.sleep(wait);
      }
    }
  }

  /** GitHub's limits hold the next write longer than reporting waits for (an hour's quota spent). */
  private tooLongWait(ms: number): SkiffError {
    return new SkiffError(
      GH_CODES["SKF-GH-002"],
      `GitHub's rate limits allow the next check-run write in ${Math.ceil(ms / 1000)}s, longer than reporting waits (${Math.round(this.limits.maxRetryWaitMs / 1000)}s); reporting falls back to the job summary`,
    );
  }

  private fallBack(error: SkiffError): void {
    if (this.fallen) return;
    this.fallen = true;
    this.queue.length = 0;
    this.options.onFallback?.(error);
    this.wake?.();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** Identifies an annotation across renderings (its level may still change from inferred to final). */
function annotationKey(a: CheckAnnotation): string {
  return `${a.path}:${a.start_line}:${a.start_column ?? ""}:${a.title ?? ""}:${a.message}`;
}

function isFailed(phase: string): boolean {
  return phase === "Failed" || phase === "Error";
}

function isFinished(phase: string): boolean {
  return (
    phase === "Succeeded" ||
    phase === "Failed" ||
    phase === "Error" ||
    phase === "Skipped" ||
    phase === "Omitted"
  );
}

function scopeOf(compiled: CompiledWorkflow, node: NodeStatus): TemplateScope {
  const id = node.templateScope ?? "";
  if (id === "" || id === "local/" || id.startsWith("local/")) return compiled.rootScope;
  const [kind, name] = id.split("/") as [string, string];
  return {
    id,
    kind: kind === "cluster" ? "ClusterWorkflowTemplate" : "WorkflowTemplate",
    name,
  };
}

/** The completed state a check renders to, or undefined while its workflow or step still runs. */
function resultOf(check: Check): CheckResult | undefined {
  try {
    const { fields, output } = check.render();
    if (fields.status !== "completed" || !fields.conclusion) return undefined;
    return {
      conclusion: fields.conclusion,
      completed_at: fields.completed_at ?? new Date().toISOString(),
      title: output.title,
      // The post step reads it from a file: the title and the start of the summary are enough.
      summary: output.summary.slice(0, 4000),
    };
  } catch {
    return undefined;
  }
}

function toSkiffError(e: unknown): SkiffError {
  if (e instanceof SkiffError) return e;
  const err = e as GitHubRequestError;
  const status = typeof err?.status === "number" ? err.status : 0;
  // A rate limit answers 403 too, but it is GitHub being unavailable for a while, not a read-only token.
  const refused = !err?.rateLimited && (status === 403 || status === 422 || status === 404);
  const code = refused ? GH_CODES["SKF-GH-001"] : GH_CODES["SKF-GH-002"];
  const what =
    status === 0
      ? "GitHub could not be reached"
      : `GitHub answered ${status}${err.rateLimited ? " (rate limit)" : ""}`;
  return new SkiffError(
    code,
    `${what}: ${err?.message ?? String(e)}; reporting falls back to the job summary`,
    {
      cause: e,
    },
  );
}
