import { SkiffError } from "../errors/index.js";
import { evaluateCondition, evaluateWhen, substitute } from "../expr/index.js";
import type { Clock, TimerHandle } from "../interfaces/clock.js";
import type { Store } from "../interfaces/store.js";
import type { CronWorkflow, Workflow } from "../spec/types.js";
import { CRON_CODES } from "./codes.js";
import { CRON_ANNOTATIONS, CRON_LABELS, rfc3339, workflowFromCron } from "./convert.js";
import { latestFiring, localTimeZone, nextFiring, parseCronSchedules, scheduleKey } from "./schedule.js";

/** A reference to a workflow a CronWorkflow created and that has not completed (Argo's ObjectReference). */
export interface CronActiveRef {
  apiVersion: "argoproj.io/v1alpha1";
  kind: "Workflow";
  namespace: string;
  name: string;
  uid?: string;
}

/** `status` of a CronWorkflow, with Argo's field names. */
export interface CronWorkflowStatus {
  active?: CronActiveRef[];
  lastScheduledTime?: string;
  conditions?: {
    type: "SpecError" | "SubmissionError";
    status: "True";
    message: string;
    lastTransitionTime?: string;
  }[];
  succeeded?: number;
  failed?: number;
  phase?: "Active" | "Stopped";
}

/** What the scheduler needs of the store: the CronWorkflows, and the workflows they created. */
export type CronSchedulerStore = Pick<
  Store,
  "listRegistered" | "getRegistered" | "putRegistered" | "list" | "delete"
>;

/** What `submit` is asked to create: the workflow of one scheduled time of a CronWorkflow. */
export interface CronSubmission {
  cron: CronWorkflow;
  /** Named `<cron>-<unix time>`, labelled and annotated as Argo's (see `workflowFromCron`). */
  workflow: Workflow;
  /** The time it was scheduled for (ms since the epoch). */
  scheduledTime: number;
}

/** What happened to one due firing, for logs and metrics. */
export interface CronFiring {
  namespace: string;
  cron: string;
  scheduledTime: number;
  outcome: "submitted" | "exists" | "suspended" | "stopped" | "when-false" | "forbidden" | "failed";
  /** The workflow created (or that existed already). */
  workflow?: string;
  /** The workflows terminated first (`concurrencyPolicy: Replace`). */
  replaced?: string[];
  error?: SkiffError;
}

export interface CronSchedulerOptions {
  store: CronSchedulerStore;
  /** Every wait reads it: tests drive the scheduler with `FakeClock`. */
  clock: Clock;
  /**
   * Creates the workflow and starts running it. Rejecting marks the firing failed (Argo's `SubmissionError`
   * condition, `status.failed` counted up). The scheduler checks beforehand that the name is free.
   */
  submit(submission: CronSubmission): Promise<void>;
  /** Terminates a running workflow (`concurrencyPolicy: Replace`); a missing or finished one is ignored. */
  terminate(namespace: string, name: string): Promise<void>;
  /** Only the CronWorkflows of this namespace; default all. */
  namespace?: string;
  /** The zone of CronWorkflows without `timezone` (Argo: the controller's local zone). Default: this process's. */
  timezone?: string;
  /** How often history limits are applied and `active` reconciled (Argo's CRON_SYNC_PERIOD, default 10 s). */
  syncPeriodMs?: number;
  /** Errors that are not a firing's (listing the store, a CronWorkflow that no longer parses). */
  onError?(error: SkiffError, cron?: { namespace: string; name: string }): void;
  onFiring?(firing: CronFiring): void;
}

/** A running scheduler (`startCronScheduler`). */
export interface CronScheduler {
  /** Resolves once the work under way (a pass over the CronWorkflows) is done. */
  idle(): Promise<void>;
  /** Runs one pass now: fires what is due, then re-arms the timer. */
  poke(): Promise<void>;
  /** Stops the timer and waits for the work under way; nothing fires afterwards. */
  stop(): Promise<void>;
}

const DEFAULT_SUCCESS_HISTORY = 3;
const DEFAULT_FAILED_HISTORY = 1;
const COMPLETED = new Set(["Succeeded", "Failed", "Error"]);

export const statusOf = (cron: CronWorkflow): CronWorkflowStatus => (cron.status ?? {}) as CronWorkflowStatus;
const keyOf = (cron: CronWorkflow) => `${cron.metadata.namespace ?? "default"}/${cron.metadata.name ?? ""}`;

/** `spec.when`: `{{cronworkflow.*}}` substituted, then govaluate; an empty one is true. */
export function evaluateCronWhen(cron: CronWorkflow): boolean {
  const when = cron.spec.when;
  if (!when) return true;
  const status = statusOf(cron);
  const labels = cron.metadata.labels ?? {};
  const annotations = cron.metadata.annotations ?? {};
  const vars: Record<string, string | null> = {
    "cronworkflow.name": cron.metadata.name ?? "",
    "cronworkflow.namespace": cron.metadata.namespace ?? "default",
    "cronworkflow.failed": String(status.failed ?? 0),
    "cronworkflow.succeeded": String(status.succeeded ?? 0),
    "cronworkflow.lastScheduledTime": status.lastScheduledTime ?? "",
    "cronworkflow.labels.json": JSON.stringify(labels),
    "cronworkflow.annotations.json": JSON.stringify(annotations),
  };
  for (const [k, v] of Object.entries(labels)) vars[`cronworkflow.labels.${k}`] = v;
  for (const [k, v] of Object.entries(annotations)) vars[`cronworkflow.annotations.${k}`] = v;
  try {
    return evaluateWhen(substitute(when, vars));
  } catch (e) {
    throw new SkiffError(
      CRON_CODES["SKF-CRON-004"],
      `spec.when ${JSON.stringify(when)}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

/** `spec.stopStrategy.expression` (or the earlier `condition`): false when there is none. */
export function evaluateCronStop(cron: CronWorkflow): boolean {
  const expression = cron.spec.stopStrategy?.expression ?? cron.spec.stopStrategy?.condition;
  if (!expression) return false;
  const status = statusOf(cron);
  const labels = cron.metadata.labels ?? {};
  try {
    return evaluateCondition(expression, {
      "cronworkflow.name": cron.metadata.name ?? "",
      "cronworkflow.namespace": cron.metadata.namespace ?? "default",
      "cronworkflow.labels": labels,
      // Argo's quirk: `annotations` holds the labels.
      "cronworkflow.annotations": labels,
      "cronworkflow.failed": status.failed ?? 0,
      "cronworkflow.succeeded": status.succeeded ?? 0,
      "cronworkflow.lastScheduledTime": status.lastScheduledTime ?? null,
    });
  } catch (e) {
    throw new SkiffError(
      CRON_CODES["SKF-CRON-004"],
      `stopStrategy ${JSON.stringify(expression)}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

function toSkiffError(e: unknown): SkiffError {
  return e instanceof SkiffError
    ? e
    : new SkiffError(CRON_CODES["SKF-CRON-004"], e instanceof Error ? e.message : String(e), { cause: e });
}

/**
 * Starts the CronWorkflow controller over a store: each CronWorkflow fires at its schedules (several, in its
 * time zone), with Argo's runtime policy (suspend, stopStrategy, when, concurrencyPolicy), records
 * `status.active`, `lastScheduledTime`, `succeeded` and `failed`, and keeps the history limits. After a
 * restart a missed firing is caught up only within `startingDeadlineSeconds`, and only the latest, as Argo
 * does. Time comes from `options.clock`.
 */
export function startCronScheduler(options: CronSchedulerOptions): CronScheduler {
  const scheduler = new Scheduler(options);
  void scheduler.poke();
  return scheduler;
}

class Scheduler implements CronScheduler {
  /** Per CronWorkflow: the time up to which its firings have been looked at. */
  private readonly checkedUntil = new Map<string, number>();
  private queue: Promise<void> = Promise.resolve();
  private timer: TimerHandle | undefined;
  private lastSync = Number.NEGATIVE_INFINITY;
  private stopped = false;
  private readonly zone: string;
  private readonly syncPeriodMs: number;

  constructor(private readonly o: CronSchedulerOptions) {
    this.zone = o.timezone ?? localTimeZone();
    this.syncPeriodMs = o.syncPeriodMs ?? 10_000;
  }

  idle(): Promise<void> {
    return this.queue;
  }

  poke(): Promise<void> {
    this.queue = this.queue.then(() => this.pass());
    return this.queue;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimer(this.timer);
    this.timer = undefined;
    await this.queue;
  }

  private report(e: unknown, cron?: CronWorkflow): void {
    this.o.onError?.(
      toSkiffError(e),
      cron ? { namespace: cron.metadata.namespace ?? "default", name: cron.metadata.name ?? "" } : undefined,
    );
  }

  private async pass(): Promise<void> {
    if (this.stopped) return;
    if (this.timer) this.o.clock.clearTimer(this.timer);
    this.timer = undefined;
    let next: number | undefined;
    try {
      const now = this.o.clock.now();
      if (now - this.lastSync >= this.syncPeriodMs) {
        this.lastSync = now;
        await this.syncAll();
      }
      next = await this.fireDue(now);
    } catch (e) {
      this.report(e);
    }
    if (this.stopped) return;
    const now = this.o.clock.now();
    const wake = Math.min(next ?? Number.POSITIVE_INFINITY, this.lastSync + this.syncPeriodMs);
    this.timer = this.o.clock.setTimer(Math.max(0, wake - now), () => void this.poke());
  }

  private list(): Promise<CronWorkflow[]> {
    return this.o.store.listRegistered("CronWorkflow", this.o.namespace) as Promise<CronWorkflow[]>;
  }

  /** Fires every CronWorkflow that is due at `now`; returns the earliest next firing. */
  private async fireDue(now: number): Promise<number | undefined> {
    let earliest: number | undefined;
    const seen = new Set<string>();
    for (const cron of await this.list()) {
      const key = keyOf(cron);
      seen.add(key);
      if (cron.metadata.labels?.[CRON_LABELS.completed] === "true") continue;
      let schedules;
      try {
        schedules = parseCronSchedules(cron, this.zone);
      } catch (e) {
        this.report(e, cron);
        continue;
      }
      const since = this.checkedUntil.get(key);
      const due =
        since !== undefined
          ? latestFiring(schedules, since, now)
          : (this.sinceCreation(cron, schedules, now) ?? this.missedFiring(cron, schedules, now));
      this.checkedUntil.set(key, now);
      if (due !== undefined) {
        const firing = await this.fire(cron, due).catch((e: unknown) => {
          this.report(e, cron);
          return undefined;
        });
        if (firing) this.o.onFiring?.(firing);
      }
      const next = nextFiring(schedules, now);
      if (next !== undefined && (earliest === undefined || next < earliest)) earliest = next;
    }
    for (const key of [...this.checkedUntil.keys()]) if (!seen.has(key)) this.checkedUntil.delete(key);
    return earliest;
  }

  /**
   * A CronWorkflow created since the previous look (less than a sync period ago) that never fired: the
   * firings since its creation are due, as an informer would have seen it at once.
   */
  private sinceCreation(
    cron: CronWorkflow,
    schedules: ReturnType<typeof parseCronSchedules>,
    now: number,
  ): number | undefined {
    const created = Date.parse(cron.metadata.creationTimestamp ?? "");
    if (Number.isNaN(created) || now - created > this.syncPeriodMs || statusOf(cron).lastScheduledTime)
      return undefined;
    return latestFiring(schedules, created, now);
  }

  /**
   * Argo's `shouldOutstandingWorkflowsBeRun`: after a restart (or when first seen), the latest firing missed
   * since `lastScheduledTime` runs if it is less than `startingDeadlineSeconds` old and the schedules are the
   * ones it was scheduled under; without a deadline nothing is caught up.
   */
  private missedFiring(
    cron: CronWorkflow,
    schedules: ReturnType<typeof parseCronSchedules>,
    now: number,
  ): number | undefined {
    const deadline = (cron.spec.startingDeadlineSeconds ?? 0) * 1000;
    const last = Date.parse(statusOf(cron).lastScheduledTime ?? "");
    if (!(deadline > 0) || Number.isNaN(last)) return undefined;
    if (cron.metadata.annotations?.[CRON_ANNOTATIONS.lastUsedSchedule] !== scheduleKey(cron))
      return undefined;
    const missed = latestFiring(schedules, Math.max(last, now - deadline - 1000), now);
    return missed !== undefined && now < missed + deadline ? missed : undefined;
  }

  /** Reads, changes and writes a CronWorkflow, again from a fresh read when someone else wrote meanwhile. */
  private async update(
    cron: CronWorkflow,
    change: (cron: CronWorkflow) => boolean | Promise<boolean>,
  ): Promise<CronWorkflow | undefined> {
    const namespace = cron.metadata.namespace ?? "default";
    const name = cron.metadata.name ?? "";
    for (let attempt = 0; ; attempt++) {
      const current = (await this.o.store.getRegistered("CronWorkflow", namespace, name)) as
        CronWorkflow | undefined;
      if (!current) return undefined;
      const copy = structuredClone(current);
      if (!(await change(copy))) return current;
      try {
        return await this.o.store.putRegistered(copy, {
          expectedResourceVersion: current.metadata.resourceVersion ?? "",
        });
      } catch (e) {
        if (!(e instanceof SkiffError && e.code === "SKF-REG-001") || attempt >= 4) throw e;
      }
    }
  }

  private async children(cron: CronWorkflow): Promise<Workflow[]> {
    return this.o.store.list({
      namespace: cron.metadata.namespace ?? "default",
      labelSelector: { [CRON_LABELS.cronWorkflow]: cron.metadata.name ?? "" },
    });
  }

  /**
   * Argo's `reconcileActiveWfs`: `active` becomes the children that have not completed; each one that left
   * it completed counts into `succeeded` or `failed`. True when the status changed.
   */
  private reconcileActive(cron: CronWorkflow, children: readonly Workflow[]): boolean {
    const status = (cron.status ??= {}) as CronWorkflowStatus;
    const byName = new Map(children.map((w) => [w.metadata.name ?? "", w]));
    const before = JSON.stringify([status.active ?? [], status.succeeded, status.failed]);
    const active: CronActiveRef[] = [];
    for (const ref of status.active ?? []) {
      const child = byName.get(ref.name);
      const phase = child?.status?.phase ?? "";
      if (child && !COMPLETED.has(phase)) active.push(ref);
      else if (phase === "Succeeded") status.succeeded = (status.succeeded ?? 0) + 1;
      else if (COMPLETED.has(phase)) status.failed = (status.failed ?? 0) + 1;
    }
    const listed = new Set(active.map((r) => r.name));
    for (const child of children)
      if (!COMPLETED.has(child.status?.phase ?? "") && !listed.has(child.metadata.name ?? ""))
        active.push(activeRef(child));
    status.active = active;
    return JSON.stringify([status.active, status.succeeded, status.failed]) !== before;
  }

  /** Argo's `syncAll`: reconciles `active`, applies the history limits and `stopStrategy`. */
  private async syncAll(): Promise<void> {
    for (const listed of await this.list()) {
      try {
        const children = await this.children(listed);
        await this.update(listed, (cron) => {
          let changed = this.reconcileActive(cron, children);
          if (cron.metadata.labels?.[CRON_LABELS.completed] !== "true" && evaluateCronStop(cron)) {
            markStopped(cron);
            changed = true;
          }
          return changed;
        });
        await this.enforceHistory(listed, children);
      } catch (e) {
        this.report(e, listed);
      }
    }
  }

  /** Deletes the oldest completed children beyond `successfulJobsHistoryLimit`/`failedJobsHistoryLimit`. */
  private async enforceHistory(cron: CronWorkflow, children: readonly Workflow[]): Promise<void> {
    const limit = (v: number | undefined, fallback: number) =>
      v === undefined || v === null || v < 0 ? fallback : v;
    const finished = (w: Workflow) => Date.parse(w.status?.finishedAt ?? "") || 0;
    const newestFirst = [...children].sort((a, b) => finished(b) - finished(a));
    const succeeded = newestFirst.filter((w) => w.status?.phase === "Succeeded");
    const failed = newestFirst.filter((w) => w.status?.phase === "Failed" || w.status?.phase === "Error");
    const drop = [
      ...succeeded.slice(limit(cron.spec.successfulJobsHistoryLimit, DEFAULT_SUCCESS_HISTORY)),
      ...failed.slice(limit(cron.spec.failedJobsHistoryLimit, DEFAULT_FAILED_HISTORY)),
    ];
    for (const w of drop) await this.o.store.delete(w.metadata.namespace ?? "default", w.metadata.name ?? "");
  }

  /**
   * Argo's `run` and `enforceRuntimePolicy` for one scheduled time: decides on a fresh read, acts (terminate,
   * submit), then writes the status, reapplied to a fresh read when someone else wrote meanwhile.
   */
  private async fire(listed: CronWorkflow, scheduledTime: number): Promise<CronFiring> {
    const namespace = listed.metadata.namespace ?? "default";
    const name = listed.metadata.name ?? "";
    const base = { namespace, cron: name, scheduledTime };
    const fresh = (await this.o.store.getRegistered("CronWorkflow", namespace, name)) as
      CronWorkflow | undefined;
    if (!fresh) return { ...base, outcome: "suspended" };
    const children = await this.children(fresh);
    const cron = structuredClone(fresh);
    this.reconcileActive(cron, children);
    const status = cron.status as CronWorkflowStatus;
    const firing = await this.decideAndAct(cron, status, children, base);
    await this.update(fresh, (target) => {
      const annotations = (target.metadata.annotations ??= {});
      let changed = this.reconcileActive(target, children);
      const key = scheduleKey(target);
      if (annotations[CRON_ANNOTATIONS.lastUsedSchedule] !== key) {
        annotations[CRON_ANNOTATIONS.lastUsedSchedule] = key;
        changed = true;
      }
      const st = target.status as CronWorkflowStatus;
      if (firing.outcome === "stopped" && st.phase !== "Stopped") {
        markStopped(target);
        changed = true;
      } else if (firing.outcome === "submitted") {
        st.active = [
          ...(st.active ?? []).filter((r) => r.name !== firing.workflow),
          activeRef(workflowFromCron(target, scheduledTime)),
        ];
        st.phase = "Active";
        st.lastScheduledTime = rfc3339(scheduledTime);
        st.conditions = (st.conditions ?? []).filter((c) => c.type !== "SubmissionError");
        if (st.conditions.length === 0) delete st.conditions;
        changed = true;
      } else if (firing.outcome === "failed") {
        st.failed = (st.failed ?? 0) + 1;
        st.conditions = [
          ...(st.conditions ?? []).filter((c) => c.type !== "SubmissionError"),
          {
            type: "SubmissionError",
            status: "True",
            message: firing.error?.message ?? "submission failed",
            lastTransitionTime: rfc3339(this.o.clock.now()),
          },
        ];
        changed = true;
      }
      return changed;
    });
    return firing;
  }

  private async decideAndAct(
    cron: CronWorkflow,
    status: CronWorkflowStatus,
    children: readonly Workflow[],
    base: Pick<CronFiring, "namespace" | "cron" | "scheduledTime">,
  ): Promise<CronFiring> {
    if (evaluateCronStop(cron)) return { ...base, outcome: "stopped" };
    if (status.phase === "Stopped") return { ...base, outcome: "stopped" };
    if (cron.spec.suspend) return { ...base, outcome: "suspended" };
    if (!evaluateCronWhen(cron)) return { ...base, outcome: "when-false" };
    const policy = cron.spec.concurrencyPolicy || "Allow";
    const active = status.active ?? [];
    if (policy === "Forbid" && active.length > 0) return { ...base, outcome: "forbidden" };
    const replaced: string[] = [];
    if (policy === "Replace")
      for (const ref of active) {
        await this.o.terminate(ref.namespace, ref.name);
        replaced.push(ref.name);
      }
    const extra = replaced.length > 0 ? { replaced } : {};
    const workflow = workflowFromCron(cron, base.scheduledTime);
    const wfName = workflow.metadata.name ?? "";
    // Argo ignores AlreadyExists: this firing was done before (by this or another scheduler).
    if (children.some((w) => w.metadata.name === wfName))
      return { ...base, outcome: "exists", workflow: wfName, ...extra };
    try {
      await this.o.submit({ cron: structuredClone(cron), workflow, scheduledTime: base.scheduledTime });
    } catch (e) {
      // Another scheduler on the same store created it meanwhile: Argo's AlreadyExists, not a failure.
      if ((await this.children(cron)).some((w) => w.metadata.name === wfName))
        return { ...base, outcome: "exists", workflow: wfName, ...extra };
      return { ...base, outcome: "failed", workflow: wfName, error: toSkiffError(e), ...extra };
    }
    return { ...base, outcome: "submitted", workflow: wfName, ...extra };
  }
}

function activeRef(wf: Workflow): CronActiveRef {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    namespace: wf.metadata.namespace ?? "default",
    name: wf.metadata.name ?? "",
    ...(wf.metadata.uid ? { uid: wf.metadata.uid } : {}),
  };
}

/** What Argo does when `stopStrategy` is met: phase Stopped, and the label that takes it off the schedule. */
function markStopped(cron: CronWorkflow): void {
  cron.status ??= {};
  (cron.status as CronWorkflowStatus).phase = "Stopped";
  cron.metadata.labels = { ...cron.metadata.labels, [CRON_LABELS.completed]: "true" };
}
