import { appendFile } from "node:fs/promises";
import type { SkiffError } from "../../../runtime/errors/index.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { cell, durationOf, maskSecrets, PHASE_MARKS, truncateMarkdown } from "../github-checks/markdown.js";
import {
  renderWorkflowBody,
  stepCounts,
  workflowTitle,
  type RenderContext,
} from "../github-checks/outputs.js";

/** GitHub's limit on one step's summary (`GITHUB_STEP_SUMMARY`), in bytes; kept in characters with a margin. */
export const JOB_SUMMARY_LIMIT = 1_000_000;

/** One pipeline's line in the job summary: it ran, it was not selected, or it could not start. */
export type SummaryEntry =
  | { pipeline: string; workflow: Workflow }
  | { pipeline: string; notRun: string }
  | { pipeline: string; error: SkiffError };

export interface JobSummaryOptions {
  secrets: readonly string[];
  now: number;
  jobUrl?: string;
  /** `skiff server`'s URL: each step links to its node in the web UI. */
  serverUrl?: string;
  /** Shown at the top, e.g. that check runs could not be used. */
  notes?: readonly string[];
  /** Shown below the overview: how the check runs report (grouped loops, steps without their own check run). */
  info?: readonly string[];
}

/** The markdown of the job summary: an overview of every pipeline, then each one's table and graph. */
export function renderJobSummary(entries: readonly SummaryEntry[], options: JobSummaryOptions): string {
  const ran = entries.filter((e): e is { pipeline: string; workflow: Workflow } => "workflow" in e);
  const failed =
    ran.filter((e) => e.workflow.status?.phase !== "Succeeded").length +
    entries.filter((e) => "error" in e).length;
  const headline =
    entries.length === 0
      ? "no pipeline found"
      : ran.length === 0 && failed === 0
        ? "no pipeline ran"
        : failed > 0
          ? `❌ ${failed} of ${ran.length + entries.filter((e) => "error" in e).length} pipelines failed`
          : `✅ ${ran.length} pipeline${ran.length === 1 ? "" : "s"} succeeded`;
  const parts: string[] = [`## Skiff: ${headline}\n`];
  for (const note of options.notes ?? []) parts.push(`> [!WARNING]\n> ${note}\n`);
  if (entries.length > 0) {
    const rows = entries.map((e) => {
      if ("workflow" in e) {
        const wf = e.workflow;
        const phase = wf.status?.phase || "Pending";
        const counts = stepCounts(wf);
        return `| ${PHASE_MARKS[phase as keyof typeof PHASE_MARKS] ?? ""} | ${cell(e.pipeline)} | ${cell(wf.metadata.name)} | ${phase} | ${durationOf(wf.status, options.now)} | ${counts.total - counts.failed}/${counts.total} |`;
      }
      if ("notRun" in e) return `| ⏭️ | ${cell(e.pipeline)} | | not run | | ${cell(e.notRun)} |`;
      return `| ⚠️ | ${cell(e.pipeline)} | | rejected | | ${cell(`${e.error.code} ${e.error.message}`)} |`;
    });
    parts.push(
      [
        "| | Pipeline | Workflow | Phase | Duration | Steps passed |",
        "|---|---|---|---|---|---|",
        ...rows,
      ].join("\n") + "\n",
    );
  }
  for (const note of options.info ?? []) parts.push(`> [!NOTE]\n> ${note}\n`);
  for (const e of entries) {
    if (!("workflow" in e)) {
      if ("error" in e) {
        const where = e.error.location ? ` (${e.error.location})` : "";
        parts.push(`### ⚠️ ${e.pipeline}\n\n\`${e.error.code}\` ${cell(e.error.message)}${where}\n`);
      }
      continue;
    }
    const ctx: RenderContext = {
      pipeline: e.pipeline,
      secrets: options.secrets,
      now: options.now,
      ...(options.jobUrl ? { jobUrl: options.jobUrl } : {}),
      ...(options.serverUrl ? { serverUrl: options.serverUrl } : {}),
    };
    const body = renderWorkflowBody(e.workflow, ctx);
    parts.push(`### ${workflowTitle(e.workflow, ctx)}\n\n${body.summary}\n${body.graph}`);
  }
  return truncateMarkdown(maskSecrets(parts.join("\n"), options.secrets), JOB_SUMMARY_LIMIT);
}

/** Appends to the job summary file. Never throws: a summary is not worth failing a run for. */
export async function appendJobSummary(file: string | undefined, markdown: string): Promise<boolean> {
  if (!file) return false;
  try {
    await appendFile(file, markdown.endsWith("\n") ? markdown : markdown + "\n");
    return true;
  } catch {
    return false;
  }
}
