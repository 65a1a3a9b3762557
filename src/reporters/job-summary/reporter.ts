import type { Clock } from "../../../runtime/interfaces/clock.js";
import type { SkiffError } from "../../../runtime/errors/index.js";
import type { RunEvent, RunReporter } from "../events.js";
import { appendJobSummary, renderJobSummary, type SummaryEntry } from "./summary.js";

export interface JobSummaryReporterOptions {
  /** The summary file (`GITHUB_STEP_SUMMARY`); unset: nothing is written. */
  file: string | undefined;
  clock: Clock;
  /** Values masked in the summary. */
  secrets: readonly string[];
  jobUrl?: string;
}

/** Collects a run's pipelines and writes the job summary when the run finishes. */
export interface JobSummaryReporter extends RunReporter {
  onEvent(event: RunEvent): void;
  /** Adds a note shown at the top (e.g. that check runs could not be written). */
  note(text: string): void;
  /** Renders and appends the summary. Never rejects. */
  finish(): Promise<void>;
}

/**
 * The job summary as a run reporter: one entry per pipeline that ran, was not selected or could not start,
 * in the order the run reported them.
 */
export function createJobSummaryReporter(options: JobSummaryReporterOptions): JobSummaryReporter {
  const entries: SummaryEntry[] = [];
  const notes: string[] = [];
  return {
    onEvent(e) {
      if (e.type === "rejected") entries.push({ pipeline: e.pipeline, error: firstProblem(e.error) });
      else if (e.type === "skipped") entries.push({ pipeline: e.pipeline, notRun: e.reason });
      else if (e.type === "workflow-completed") entries.push({ pipeline: e.pipeline, workflow: e.workflow });
    },
    note(text) {
      notes.push(text);
    },
    async finish() {
      const markdown = renderJobSummary(entries, {
        secrets: options.secrets,
        now: options.clock.now(),
        ...(options.jobUrl ? { jobUrl: options.jobUrl } : {}),
        notes,
      });
      await appendJobSummary(options.file, markdown);
    },
  };
}

/** An aggregate error is shown by its first problem (the annotations carry them all). */
function firstProblem(e: SkiffError): SkiffError {
  const problems = "problems" in e && Array.isArray(e.problems) ? (e.problems as SkiffError[]) : [e];
  return problems[0] ?? e;
}
