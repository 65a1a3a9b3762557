import { workflowUiUrl } from "../links.js";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { SkiffError } from "../../../runtime/errors/index.js";
import type { Clock } from "../../../runtime/interfaces/clock.js";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import type { RunEvent, RunReporter } from "../events.js";
import { isLeafStep, maskSecrets, stepName } from "../github-checks/markdown.js";
import { stepCheckName, workflowCheckName } from "../github-checks/outputs.js";
import { RunCollector } from "../junit/collect.js";
import { renderJUnit } from "../junit/junit.js";
import {
  GitLabRequestError,
  type CommitStatusFields,
  type CommitStatusState,
  type GitLabClient,
} from "./client.js";
import { GL_CODES } from "./codes.js";
import { codeQualityReport } from "./code-quality.js";
import { noteMarker, renderMergeRequestNote } from "./note.js";

/** How hard the reporter tries before it gives up on GitLab for the rest of the run. */
export interface GitLabLimits {
  /** Attempts of one request when GitLab answers 429, 5xx or not at all. */
  maxAttempts: number;
  /** First backoff; doubled on each further attempt. */
  baseBackoffMs: number;
  /** A `Retry-After` longer than this is not waited for. */
  maxRetryWaitMs: number;
}

export const DEFAULT_GITLAB_LIMITS: GitLabLimits = {
  maxAttempts: 4,
  baseBackoffMs: 1000,
  maxRetryWaitMs: 60_000,
};

export interface GitLabReporterOptions {
  /** Unset: no API calls; the report files are still written. */
  client?: GitLabClient;
  clock: Clock;
  /** The commit statuses are set on (`CI_COMMIT_SHA`). */
  sha: string;
  ref?: string;
  /** Statuses are grouped under this pipeline (`CI_PIPELINE_ID`). */
  pipelineId?: number;
  /** The merge request the note goes to (`CI_MERGE_REQUEST_IID`); unset: no note. */
  mergeRequestIid?: number;
  /** The checkout: report paths are relative to it. */
  workspace: string;
  /** Values masked in every output (the token among them). */
  secrets?: readonly string[];
  /** A Skiff (or Argo) server's URL: statuses link to the workflow there. */
  serverUrl?: string;
  /** The job's page (`CI_JOB_URL`): statuses link to it when there is no server. */
  jobUrl?: string;
  /** Where the Code Quality report is written (`artifacts:reports:codequality`). */
  codeQualityFile?: string;
  /** Where the JUnit report is written (`artifacts:reports:junit`). */
  junitFile?: string;
  /** Tells this run's note apart from other jobs' notes on the same merge request (default `skiff`). */
  noteKey?: string;
  limits?: Partial<GitLabLimits>;
  /** How long `finish()` waits for GitLab (ms; default 2 minutes). */
  finishTimeoutMs?: number;
  /** Where problems with GitLab are told (the job log). */
  log?: (line: string) => void;
}

/** Turns a run's events into GitLab commit statuses, a merge-request note and report artifacts. */
export interface GitLabReporter extends RunReporter {
  onEvent(event: RunEvent): void;
  /** Sends what is pending (within `finishTimeoutMs`), updates the note, writes the reports. Never rejects. */
  finish(): Promise<void>;
  /** Reporting gave up on GitLab (refused, or unavailable after every retry). */
  readonly fellBack: boolean;
  /** Requests sent to GitLab, retries included. */
  readonly requests: number;
}

interface StatusEntry {
  name: string;
  desired: CommitStatusFields;
  /** The state GitLab has: it refuses a transition to the state a status is already in. */
  sent?: CommitStatusState;
  queued: boolean;
}

/** Creates the GitLab reporter of `skiff ci --gitlab-report`. */
export function createGitLabReporter(options: GitLabReporterOptions): GitLabReporter {
  return new Reporter(options);
}

const FINISHED = new Set(["Succeeded", "Failed", "Error", "Skipped", "Omitted"]);

/** A node's (or workflow's) phase as a commit status's state. */
export function statusState(phase: string | undefined, message?: string): CommitStatusState {
  switch (phase) {
    case "Succeeded":
      return "success";
    case "Failed":
    case "Error":
      return message && /^Stopped with strategy|terminated|cancelled/i.test(message) ? "canceled" : "failed";
    case "Skipped":
    case "Omitted":
      return "skipped";
    case "Running":
      return "running";
    default:
      return "pending";
  }
}

class Reporter implements GitLabReporter {
  private readonly limits: GitLabLimits;
  private readonly secrets: readonly string[];
  private readonly collector: RunCollector;
  private readonly statuses = new Map<string, StatusEntry>();
  private readonly queue: StatusEntry[] = [];
  private readonly workflows = new Map<number, { pipeline: string; workflow?: Workflow }>();
  private readonly skipped: { pipeline: string; reason: string }[] = [];
  private pumping: Promise<void> | undefined;
  private fallen = false;
  private sentCount = 0;
  private readonly warned = new Set<string>();

  constructor(private readonly options: GitLabReporterOptions) {
    this.limits = { ...DEFAULT_GITLAB_LIMITS, ...(options.limits ?? {}) };
    this.secrets = options.secrets ?? [];
    this.collector = new RunCollector({ workspace: options.workspace, secrets: this.secrets });
    this.fallen = options.client === undefined;
  }

  get fellBack(): boolean {
    return this.fallen && this.options.client !== undefined;
  }

  get requests(): number {
    return this.sentCount;
  }

  onEvent(event: RunEvent): void {
    try {
      this.collector.onEvent(event);
      this.track(event);
    } catch {
      // Reporting must never break the run.
    }
  }

  async finish(): Promise<void> {
    const timeoutMs = this.options.finishTimeoutMs ?? 120_000;
    let timer: ReturnType<Clock["setTimer"]> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = this.options.clock.setTimer(timeoutMs, () => {
        this.giveUp(
          new SkiffError(
            GL_CODES["SKF-GL-002"],
            `GitLab did not take every update within ${Math.round(timeoutMs / 1000)}s`,
          ),
        );
        resolve();
      });
    });
    try {
      await Promise.race([this.sendAll(), timeout]);
    } catch {
      // sendAll gives up on GitLab rather than throw; nothing here may fail the run.
    } finally {
      if (timer) this.options.clock.clearTimer(timer);
    }
    await this.writeReports();
  }

  // ---- statuses ----------------------------------------------------------------------------------------

  private track(event: RunEvent): void {
    switch (event.type) {
      case "skipped":
        this.skipped.push({ pipeline: event.pipeline, reason: event.reason });
        return;
      case "rejected":
        this.setStatus(workflowCheckName(event.pipeline), {
          state: "failed",
          description: `${event.error.code} ${event.error.message}`,
        });
        return;
      case "workflow-starting":
        this.workflows.set(event.index, { pipeline: event.pipeline });
        return;
      case "controller": {
        const wf = this.workflows.get(event.index);
        const e = event.event;
        if (!wf || e.type === "log") return;
        wf.workflow = e.workflow;
        if (e.type === "workflow-started") this.workflowStatus(wf.pipeline, e.workflow);
        else if (e.type === "node-updated" && isLeafStep(e.workflow, e.node))
          this.stepStatus(wf.pipeline, e.workflow, e.node);
        return;
      }
      case "workflow-completed": {
        const wf = this.workflows.get(event.index);
        const pipeline = wf?.pipeline ?? event.pipeline;
        for (const node of Object.values(event.workflow.status?.nodes ?? {}))
          if (isLeafStep(event.workflow, node)) this.stepStatus(pipeline, event.workflow, node);
        this.workflowStatus(pipeline, event.workflow);
        return;
      }
    }
  }

  private workflowStatus(pipeline: string, wf: Workflow): void {
    const phase = wf.status?.phase;
    const done = phase === "Succeeded" || phase === "Failed" || phase === "Error";
    this.setStatus(
      workflowCheckName(pipeline),
      {
        state: done ? statusState(phase, wf.status?.message) : "running",
        description: done
          ? `${phase}${wf.status?.message ? `: ${wf.status.message}` : ""}`
          : `${wf.metadata.name} is running`,
      },
      this.workflowUrl(wf),
    );
  }

  private stepStatus(pipeline: string, wf: Workflow, node: NodeStatus): void {
    if (node.phase === "Pending" && !this.statuses.has(stepCheckName(pipeline, wf, node))) return;
    const finished = FINISHED.has(node.phase);
    this.setStatus(
      stepCheckName(pipeline, wf, node),
      {
        state: finished ? statusState(node.phase, node.message) : statusState(node.phase),
        description: node.message
          ? `${node.phase}: ${node.message}`
          : `${stepName(node, wf.metadata.name ?? "")} ${node.phase.toLowerCase()}`,
      },
      this.workflowUrl(wf, node),
    );
  }

  private workflowUrl(wf: Workflow, node?: NodeStatus): string | undefined {
    return workflowUiUrl(this.options.serverUrl, wf, node?.id) ?? this.options.jobUrl;
  }

  private setStatus(
    name: string,
    fields: { state: CommitStatusState; description: string },
    targetUrl?: string,
  ): void {
    if (this.fallen) return;
    const desired: CommitStatusFields = {
      state: fields.state,
      name,
      // GitLab keeps at most 255 characters of a description.
      description: maskSecrets(fields.description, this.secrets).slice(0, 255),
      ...(this.options.pipelineId !== undefined ? { pipeline_id: this.options.pipelineId } : {}),
      ...(this.options.ref ? { ref: this.options.ref } : {}),
      ...(targetUrl ? { target_url: targetUrl } : {}),
    };
    let entry = this.statuses.get(name);
    if (!entry) this.statuses.set(name, (entry = { name, desired, queued: false }));
    else entry.desired = desired;
    if (entry.sent === desired.state || entry.queued) return;
    entry.queued = true;
    this.queue.push(entry);
    if (!this.pumping) this.pumping = this.pump();
  }

  private async pump(): Promise<void> {
    // Yield once so that a burst of events (a step starting and ending at once) costs one request.
    await Promise.resolve();
    try {
      while (!this.fallen) {
        const entry = this.queue.shift();
        if (!entry) break;
        entry.queued = false;
        const fields = entry.desired;
        if (entry.sent === fields.state) continue;
        const ok = await this.request(`status ${entry.name}`, () =>
          this.options.client!.setCommitStatus(this.options.sha, fields),
        );
        if (ok) entry.sent = fields.state;
      }
    } finally {
      this.pumping = undefined;
      if (this.queue.length > 0 && !this.fallen) this.pumping = this.pump();
    }
  }

  private async sendAll(): Promise<void> {
    while (this.pumping) await this.pumping;
    const iid = this.options.mergeRequestIid;
    if (this.fallen || iid === undefined) return;
    const key = this.options.noteKey ?? "skiff";
    const body = renderMergeRequestNote(key, this.collector.records, {
      secrets: this.secrets,
      now: this.options.clock.now(),
      skipped: this.skipped,
      ...(this.options.jobUrl ? { jobUrl: this.options.jobUrl } : {}),
    });
    const client = this.options.client!;
    let notes: { id: number; body: string }[] | undefined;
    await this.request("merge-request notes", async () => {
      notes = await client.listMergeRequestNotes(iid);
    });
    if (notes === undefined) return;
    const marker = noteMarker(key);
    const existing = notes.find((n) => n.body.startsWith(marker) || n.body.includes(`\n${marker}`));
    if (existing)
      await this.request("merge-request note", () => client.updateMergeRequestNote(iid, existing.id, body));
    else
      await this.request("merge-request note", async () => {
        await client.createMergeRequestNote(iid, body);
      });
  }

  /**
   * One request with failures retried: 429, 5xx and no answer back off exponentially (or wait the
   * `Retry-After` GitLab sent); 401, 403 and 404 stop reporting to GitLab for the rest of the run; other
   * refusals drop this request only. Resolves whether it was taken; never rejects.
   */
  private async request(what: string, fn: () => Promise<void>): Promise<boolean> {
    for (let attempt = 1; !this.fallen; attempt++) {
      this.sentCount++;
      try {
        await fn();
        return true;
      } catch (e) {
        const err =
          e instanceof GitLabRequestError ? e : new GitLabRequestError(0, String((e as Error)?.message ?? e));
        if (err.status === 401 || err.status === 403 || err.status === 404) {
          this.giveUp(
            new SkiffError(
              GL_CODES["SKF-GL-001"],
              `GitLab answered ${err.status} to ${what}: ${this.mask(err.message)}`,
            ),
          );
          return false;
        }
        if (!err.transient) {
          this.warn(`GitLab refused ${what} (${err.status}): ${this.mask(err.message)}`);
          return false;
        }
        const wait = err.retryAfterMs ?? this.limits.baseBackoffMs * 2 ** (attempt - 1);
        if (attempt >= this.limits.maxAttempts || wait > this.limits.maxRetryWaitMs) {
          this.giveUp(
            new SkiffError(
              GL_CODES["SKF-GL-002"],
              `GitLab answered ${err.status === 0 ? "nothing" : err.status} to ${what} after ${attempt} attempts: ${this.mask(err.message)}`,
            ),
          );
          return false;
        }
        await this.options.clock.sleep(wait);
      }
    }
    return false;
  }

  private giveUp(error: SkiffError): void {
    if (this.fallen) return;
    this.fallen = true;
    this.queue.length = 0;
    this.warn(
      `${error.code} ${error.message}; the run goes on without GitLab statuses.\n${error.hint ?? ""}`.trim(),
    );
  }

  private warn(line: string): void {
    if (this.warned.has(line)) return;
    this.warned.add(line);
    this.options.log?.(line);
  }

  private mask(text: string): string {
    return maskSecrets(text, this.secrets);
  }

  // ---- files -------------------------------------------------------------------------------------------

  private async writeReports(): Promise<void> {
    const write = async (file: string | undefined, text: string) => {
      if (!file) return;
      try {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, text);
      } catch (e) {
        this.warn(`cannot write ${file}: ${(e as Error).message}`);
      }
    };
    await write(
      this.options.codeQualityFile,
      JSON.stringify(codeQualityReport(this.collector.records), null, 2) + "\n",
    );
    await write(
      this.options.junitFile,
      renderJUnit(this.collector.records, {
        secrets: this.secrets,
        workspace: this.options.workspace,
        ...(this.options.serverUrl ? { serverUrl: this.options.serverUrl } : {}),
      }),
    );
  }
}
