import type { PipelineRecord } from "../junit/collect.js";
import { renderJobSummary, type SummaryEntry } from "../job-summary/summary.js";

/** GitLab's limit on a note's body, in characters (1,000,000); kept with a margin. */
export const NOTE_LIMIT = 900_000;

/** The hidden marker that finds a run's note again, so a re-run updates it instead of adding another. */
export function noteMarker(key: string): string {
  return `<!-- skiff-report:${key.replace(/-->/g, "")} -->`;
}

export interface NoteOptions {
  secrets: readonly string[];
  now: number;
  jobUrl?: string;
  notes?: readonly string[];
  /** Pipelines the event did not select, with the reason. */
  skipped?: readonly { pipeline: string; reason: string }[];
}

/**
 * The merge-request note: the marker, then the same summary the GitHub job summary shows (an overview
 * table, each workflow's step table and its Mermaid graph, which GitLab renders).
 */
export function renderMergeRequestNote(
  key: string,
  records: readonly PipelineRecord[],
  options: NoteOptions,
): string {
  const entries: SummaryEntry[] = [
    ...records.map((r): SummaryEntry =>
      "error" in r
        ? { pipeline: r.pipeline, error: r.error }
        : { pipeline: r.pipeline, workflow: r.workflow },
    ),
    ...(options.skipped ?? []).map((s) => ({ pipeline: s.pipeline, notRun: s.reason })),
  ];
  const body = renderJobSummary(entries, {
    secrets: options.secrets,
    now: options.now,
    ...(options.jobUrl ? { jobUrl: options.jobUrl } : {}),
    ...(options.notes ? { notes: options.notes } : {}),
  });
  return `${noteMarker(key)}\n${body}`.slice(0, NOTE_LIMIT);
}
