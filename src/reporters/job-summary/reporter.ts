import { appendFileSync } from "node:fs";
import type { Clock } from "../../../runtime/interfaces/clock.js";
import type { SkiffError } from "../../../runtime/errors/index.js";
import type { RunEvent, RunReporter } from "../events.js";
import { maskSecrets } from "../github-checks/markdown.js";
import { appendJobSummary, renderJobSummary, type SummaryEntry } from "./summary.js";

export interface JobSummaryReporterOptions {
  /** The summary file (`GITHUB_STEP_SUMMARY`); unset: nothing is written. */
  file: string | undefined;
  clock: Clock;
  /** Values masked in the summary. */
  secrets: readonly string[];
  jobUrl?: string;
  /** `skiff server`'s URL: each step links to its node in the web UI. */
  serverUrl?: string;
  /**
   * Read when the summary is written: what the check runs do not show one by one (grouped loops, steps left
   * without a check run), shown as notes.
   */
  reportingNotes?: () => readonly string[];
}

/** Collects a run's pipelines and writes the job summary when the run finishes. */
export interface JobSummaryReporter extends RunReporter {
  onEvent(event: RunEvent): void;
  /**
   * Adds a warning (e.g. that check runs could not be written): at the top while the summary is not written
   * yet, appended below it afterwards.
   */
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
  let written = false;
  return {
    onEvent(e) {
      if (e.type === "rejected") entries.push({ pipeline: e.pipeline, error: firstProblem(e.error) });
      else if (e.type === "skipped") entries.push({ pipeline: e.pipeline, notRun: e.reason });
      else if (e.type === "workflow-completed") entries.push({ pipeline: e.pipeline, workflow: e.workflow });
    },
    note(text) {
      if (!written) {
        notes.push(text);
        return;
      }
      if (!options.file) return;
      try {
        // Synchronous: the note is as late as it gets, the action may be about to exit.
        appendFileSync(options.file, `\n> [!WARNING]\n> ${maskSecrets(text, options.secrets)}\n`);
      } catch {
        // A summary is not worth failing a run for.
      }
    },
    async finish() {
      let info: readonly string[] = [];
      try {
        info = options.reportingNotes?.() ?? [];
      } catch {
        // The notes only explain the check runs; the summary goes out without them.
      }
      const markdown = renderJobSummary(entries, {
        secrets: options.secrets,
        now: options.clock.now(),
        ...(options.jobUrl ? { jobUrl: options.jobUrl } : {}),
        ...(options.serverUrl ? { serverUrl: options.serverUrl } : {}),
        notes,
        info,
      });
      written = true;
      await appendJobSummary(options.file, markdown);
    },
  };
}

/** An aggregate error is shown by its first problem (the annotations carry them all). */
function firstProblem(e: SkiffError): SkiffError {
  const problems = "problems" in e && Array.isArray(e.problems) ? (e.problems as SkiffError[]) : [e];
  return problems[0] ?? e;
}
