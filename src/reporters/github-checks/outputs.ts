import { relative } from "node:path";
import type { SkiffError } from "../../../runtime/errors/index.js";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import type { CheckConclusion, CheckRunOutput } from "./client.js";
import {
  cell,
  conclusionOf,
  durationOf,
  GITHUB_TEXT_LIMIT,
  logBlock,
  maskSecrets,
  mermaidGraph,
  parameterTable,
  PHASE_MARKS,
  statusTable,
  stepName,
  truncateMarkdown,
  leafSteps,
} from "./markdown.js";

/** What every rendering needs beside the workflow. */
export interface RenderContext {
  /** The pipeline's stable name (check names use it, not the generated workflow name). */
  pipeline: string;
  secrets: readonly string[];
  /** "now" for what still runs, ms. */
  now: number;
  /** A link to the job's log; check runs ignore `details_url` for Actions, so the link goes in the text. */
  jobUrl?: string;
  /** `skiff server`'s URL: steps link to their node in its web UI. */
  serverUrl?: string;
}

/** A step's log tail. */
export interface LogTail {
  lines: readonly string[];
  /** Lines that came before the tail and are not shown. */
  omitted: number;
}

const FINISHED = new Set(["Succeeded", "Failed", "Error", "Skipped", "Omitted"]);

/** Check-run name of a workflow. */
export function workflowCheckName(pipeline: string): string {
  return pipeline;
}

/** Check-run name of a step: `<pipeline> / <step>`. */
export function stepCheckName(pipeline: string, wf: Workflow, node: NodeStatus): string {
  return `${pipeline} / ${stepName(node, wf.metadata.name ?? "")}`;
}

function jobLink(ctx: RenderContext): string {
  return ctx.jobUrl ? `[Job log](${ctx.jobUrl})\n` : "";
}

function verb(conclusion: CheckConclusion): string {
  switch (conclusion) {
    case "success":
      return "succeeded";
    case "failure":
      return "failed";
    case "timed_out":
      return "timed out";
    case "cancelled":
      return "was cancelled";
    case "skipped":
      return "was skipped";
    default:
      return "finished";
  }
}

/** The output of a step's check run: what ran, how it ended, its parameters and outputs, its log tail. */
export function renderStepOutput(
  wf: Workflow,
  node: NodeStatus,
  logs: LogTail,
  ctx: RenderContext,
): CheckRunOutput {
  const name = stepName(node, wf.metadata.name ?? "");
  const finished = FINISHED.has(node.phase);
  const conclusion = conclusionOf(node.phase, node.message);
  const duration = durationOf(node, ctx.now);
  const message = node.message ? maskSecrets(node.message, ctx.secrets) : "";
  const title = finished
    ? `${PHASE_MARKS[node.phase]} ${name} ${verb(conclusion)}${duration ? ` in ${duration}` : ""}${message && conclusion !== "success" ? `: ${message}` : ""}`
    : `${PHASE_MARKS[node.phase]} ${name} is ${node.phase.toLowerCase()}`;
  const parts: string[] = [];
  parts.push(
    [
      "| Pipeline | Workflow | Step | Template | Phase | Duration |",
      "|---|---|---|---|---|---|",
      `| ${cell(ctx.pipeline)} | ${cell(wf.metadata.name)} | ${cell(name)} | ${cell(node.templateName ?? node.templateRef?.template)} | ${PHASE_MARKS[node.phase]} ${node.phase} | ${duration} |`,
    ].join("\n") + "\n",
  );
  if (message) parts.push(`**Message:** ${cell(message)}\n`);
  const inputs = parameterTable("Input", node.inputs?.parameters, ctx.secrets);
  if (inputs) parts.push(`### Parameters\n\n${inputs}`);
  const outs = [...(node.outputs?.parameters ?? [])];
  if (node.outputs?.result !== undefined) outs.push({ name: "result", value: node.outputs.result });
  if (node.outputs?.exitCode !== undefined)
    outs.push({ name: "exitCode", value: String(node.outputs.exitCode) });
  const outputs = parameterTable("Output", outs, ctx.secrets);
  const artifacts = (node.outputs?.artifacts ?? []).map((a) => `\`${a.name}\``).join(", ");
  if (outputs || artifacts)
    parts.push(`### Outputs\n\n${outputs}${artifacts ? `\nArtifacts: ${artifacts}\n` : ""}`);
  if (node.type === "Retry") {
    const attempts = (node.children ?? [])
      .map((id) => wf.status?.nodes?.[id])
      .filter((n): n is NodeStatus => n !== undefined);
    // However many attempts a retryStrategy allows, they stay in this one check: a row each.
    const logs = ctx.jobUrl ? ` [log](${ctx.jobUrl}) |` : "";
    if (attempts.length > 0)
      parts.push(
        `### Attempts\n\n| # | Phase | Duration | Message |${logs ? " Logs |" : ""}\n|---|---|---|---|${logs ? "---|" : ""}\n${attempts
          .map(
            (a, i) =>
              `| ${i + 1} | ${PHASE_MARKS[a.phase]} ${a.phase} | ${durationOf(a, ctx.now)} | ${cell(maskSecrets(a.message ?? "", ctx.secrets))} |${logs}`,
          )
          .join("\n")}\n`,
      );
  }
  const link = jobLink(ctx);
  if (link) parts.push(link);
  const summary = truncateMarkdown(maskSecrets(parts.join("\n"), ctx.secrets));
  const block = logBlock(logs.lines, ctx.secrets, logs.omitted);
  const text = block ? truncateMarkdown(`### Log\n\n${block}`, GITHUB_TEXT_LIMIT) : undefined;
  return { title: title.slice(0, 255), summary, ...(text ? { text } : {}) };
}

/** Counts of a workflow's steps by phase. */
export function stepCounts(wf: Workflow): { total: number; failed: number; finished: number } {
  const steps = leafSteps(wf);
  return {
    total: steps.length,
    failed: steps.filter((s) => s.phase === "Failed" || s.phase === "Error").length,
    finished: steps.filter((s) => FINISHED.has(s.phase)).length,
  };
}

/** The headline of a workflow, for check titles and the job summary. */
export function workflowTitle(wf: Workflow, ctx: RenderContext): string {
  const phase = wf.status?.phase ?? "Pending";
  const counts = stepCounts(wf);
  const steps = `${counts.total} step${counts.total === 1 ? "" : "s"}`;
  const done = phase === "Succeeded" || phase === "Failed" || phase === "Error";
  const mark = PHASE_MARKS[(phase || "Pending") as keyof typeof PHASE_MARKS] ?? "⏳";
  if (!done) return `${mark} ${ctx.pipeline} is running (${counts.finished} of ${steps} done)`;
  const conclusion = conclusionOf(phase, wf.status?.message);
  const duration = durationOf(wf.status, ctx.now);
  const failed = counts.failed > 0 ? `: ${counts.failed} of ${steps} failed` : ` (${steps})`;
  return `${mark} ${ctx.pipeline} ${verb(conclusion)}${duration ? ` in ${duration}` : ""}${failed}`;
}

/**
 * The body shared by the workflow's check run and the job summary: status table, parameters, global outputs
 * and the Mermaid graph coloured by phase.
 */
export function renderWorkflowBody(
  wf: Workflow,
  ctx: RenderContext,
  options: { notes?: readonly string[] } = {},
): { summary: string; graph: string } {
  const parts: string[] = [];
  if (wf.status?.message) parts.push(`**Message:** ${cell(maskSecrets(wf.status.message, ctx.secrets))}\n`);
  parts.push(statusTable(wf, ctx.now, ctx.secrets, ctx.serverUrl));
  const params = parameterTable("Parameter", wf.spec.arguments?.parameters, ctx.secrets);
  if (params) parts.push(`### Parameters\n\n${params}`);
  const outputs = parameterTable("Output", wf.status?.outputs?.parameters, ctx.secrets);
  if (outputs) parts.push(`### Outputs\n\n${outputs}`);
  for (const note of options.notes ?? []) parts.push(`> [!NOTE]\n> ${note}\n`);
  const link = jobLink(ctx);
  if (link) parts.push(link);
  return {
    summary: maskSecrets(parts.join("\n"), ctx.secrets),
    graph: maskSecrets(mermaidGraph(wf), ctx.secrets),
  };
}

/** The output of a workflow's check run. The graph goes in `text`, which GitHub renders below the summary. */
export function renderWorkflowOutput(
  wf: Workflow,
  ctx: RenderContext,
  options: { notes?: readonly string[] } = {},
): CheckRunOutput {
  const body = renderWorkflowBody(wf, ctx, options);
  return {
    title: workflowTitle(wf, ctx).slice(0, 255),
    summary: truncateMarkdown(body.summary),
    text: truncateMarkdown(`### Graph\n\n${body.graph}`),
  };
}

/** The summary of a pipeline's check when it could not start: every problem with its place. */
export function renderRejection(e: SkiffError, workspace: string): string {
  const problems = "problems" in e && Array.isArray(e.problems) ? (e.problems as SkiffError[]) : [e];
  const rows = problems.map((p) => {
    const where = p.position?.file
      ? `${shownPath(p.position.file, workspace)}${p.position.line !== undefined ? `:${p.position.line}` : ""}`
      : "";
    return `| \`${p.code}\` | ${where} | ${p.message.replace(/\|/g, "\\|")} |`;
  });
  return ["The pipeline could not start.", "", "| code | where | problem |", "|---|---|---|", ...rows].join(
    "\n",
  );
}

/** A file relative to the checkout when it is inside it, else as given. */
function shownPath(file: string, workspace: string): string {
  const r = relative(workspace, file);
  return r.startsWith("..") ? file : r;
}
