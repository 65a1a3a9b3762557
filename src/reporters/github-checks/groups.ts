import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import type { CheckConclusion, CheckRunOutput } from "./client.js";
import {
  cell,
  durationOf,
  GITHUB_TEXT_LIMIT,
  logBlock,
  maskSecrets,
  PHASE_MARKS,
  stepName,
  truncateMarkdown,
} from "./markdown.js";
import type { LogTail, RenderContext } from "./outputs.js";

/** Loops with more items than this report as one check run (the `group-threshold` input). */
export const DEFAULT_GROUP_THRESHOLD = 20;

/** Item rows a group's check lists; the job summary lists every step. */
const ITEM_ROWS = 250;
/** Failed items whose log tails a group's check shows. */
const FAILED_LOGS = 5;
/** Lines of each of those tails. */
const FAILED_LOG_LINES = 20;

const FINISHED = new Set(["Succeeded", "Failed", "Error", "Skipped", "Omitted"]);

/** Which loop a node is an item of, and which item. */
export interface LoopItem {
  /** The loop's node name: the item's name without the `(index:item)` Argo appends. */
  key: string;
  index: number;
  item: string;
}

/**
 * The loop (`withItems`, `withParam`, `withSequence`) a step is an item of: Argo names each item
 * `<step>(<index>:<item>)`, in a DAG under the task's TaskGroup node, in steps beside the other steps of its
 * group. Retry attempts (`<step>(<n>)`) are not loop items. Undefined for a step outside a loop.
 */
export function loopItemOf(node: NodeStatus): LoopItem | undefined {
  // Greedy: in nested loops (`outer(1:b).inner(0:x)`) the innermost loop is the one the step belongs to.
  const m = /^(.*)\((\d+):(.*)\)$/s.exec(node.name);
  if (!m || m[1] === "") return undefined;
  return { key: m[1]!, index: Number(m[2]), item: m[3]! };
}

/** A loop's name as check names show it: `build` for `ci-x1y2z.build` or `ci-x1y2z[0].build`. */
export function loopName(key: string, workflowName: string): string {
  return stepName({ id: key, name: key, displayName: key, type: "Pod", phase: "Pending" }, workflowName);
}

/** Check-run name of a grouped loop: `<pipeline> / <step> (loop)`. Stable while items are added. */
export function groupCheckName(pipeline: string, key: string, workflowName: string): string {
  return `${pipeline} / ${loopName(key, workflowName)} (loop)`;
}

/** Counts of a loop's items by outcome. */
export interface ItemCounts {
  total: number;
  finished: number;
  failed: number;
  skipped: number;
}

export function itemCounts(items: readonly NodeStatus[]): ItemCounts {
  return {
    total: items.length,
    finished: items.filter((n) => FINISHED.has(n.phase)).length,
    failed: items.filter((n) => n.phase === "Failed" || n.phase === "Error").length,
    skipped: items.filter((n) => n.phase === "Skipped" || n.phase === "Omitted").length,
  };
}

/** A grouped loop's conclusion: failure when an item failed, skipped when every item was, else success. */
export function groupConclusion(items: readonly NodeStatus[]): CheckConclusion {
  const counts = itemCounts(items);
  if (counts.failed > 0) return "failure";
  if (counts.total > 0 && counts.skipped === counts.total) return "skipped";
  return "success";
}

/** The loop's time: from its first item's start to its last item's end. */
function loopSpan(items: readonly NodeStatus[]): { startedAt?: string; finishedAt?: string } {
  const starts = items.map((n) => n.startedAt).filter((s): s is string => s !== undefined);
  const ends = items.map((n) => n.finishedAt).filter((s): s is string => s !== undefined);
  const done = items.every((n) => FINISHED.has(n.phase));
  return {
    ...(starts.length > 0 ? { startedAt: starts.sort()[0] } : {}),
    ...(done && ends.length > 0 ? { finishedAt: ends.sort()[ends.length - 1] } : {}),
  };
}

/**
 * The output of a grouped loop's check run: a headline with the items' outcome, a table of items (failed
 * first, then by index: phase, duration, a link to the logs), and the log tails of the first failed items.
 */
export function renderGroupOutput(
  wf: Workflow,
  key: string,
  items: readonly NodeStatus[],
  logs: (node: NodeStatus) => LogTail,
  ctx: RenderContext,
  done: boolean,
): CheckRunOutput {
  const wfName = wf.metadata.name ?? "";
  const name = loopName(key, wfName);
  const counts = itemCounts(items);
  const span = loopSpan(items);
  const duration = durationOf(span, ctx.now);
  const of = `${counts.total} item${counts.total === 1 ? "" : "s"}`;
  const title = !done
    ? `🔄 ${name}: ${counts.finished} of ${of} done${counts.failed > 0 ? `, ${counts.failed} failed` : ""}`
    : counts.failed > 0
      ? `❌ ${name}: ${counts.failed} of ${of} failed`
      : counts.skipped === counts.total
        ? `⏭️ ${name}: ${of} skipped`
        : `✅ ${name}: ${of} succeeded${duration ? ` in ${duration}` : ""}`;

  const ordered = [...items].sort((a, b) => rank(a) - rank(b) || indexOf(a) - indexOf(b));
  const logLink = ctx.jobUrl ? `[log](${ctx.jobUrl})` : "";
  const rows = ordered.slice(0, ITEM_ROWS).map((n) => {
    const loop = loopItemOf(n);
    const message =
      n.message && n.phase !== "Succeeded" ? ` ${cell(maskSecrets(n.message, ctx.secrets))}` : "";
    return `| ${PHASE_MARKS[n.phase]} | ${loop?.index ?? ""} | ${cell(maskSecrets(shorten(loop?.item ?? n.displayName), ctx.secrets))} | ${n.phase}${message} | ${durationOf(n, ctx.now)} | ${logLink} |`;
  });
  const parts: string[] = [
    [
      "| Pipeline | Workflow | Loop | Items | Succeeded | Failed | Skipped | Duration |",
      "|---|---|---|---|---|---|---|---|",
      `| ${cell(ctx.pipeline)} | ${cell(wfName)} | ${cell(name)} | ${counts.total} | ${items.filter((n) => n.phase === "Succeeded").length} | ${counts.failed} | ${counts.skipped} | ${duration} |`,
    ].join("\n") + "\n",
    `The loop has more items than fit a check run each: they are reported together here.\n`,
    ["### Items", "", "| | # | Item | Phase | Duration | Logs |", "|---|---|---|---|---|---|", ...rows].join(
      "\n",
    ) + "\n",
  ];
  if (ordered.length > ITEM_ROWS)
    parts.push(`_${ordered.length - ITEM_ROWS} more items are listed in the job summary._\n`);
  if (ctx.jobUrl) parts.push(`[Job log](${ctx.jobUrl})\n`);
  const summary = truncateMarkdown(maskSecrets(parts.join("\n"), ctx.secrets));

  const tails = ordered
    .filter((n) => n.phase === "Failed" || n.phase === "Error")
    .slice(0, FAILED_LOGS)
    .map((n) => {
      const tail = logs(n);
      const lines = tail.lines.slice(-FAILED_LOG_LINES);
      const block = logBlock(lines, ctx.secrets, tail.omitted + tail.lines.length - lines.length);
      return block ? `### ${cell(stepName(n, wfName))}\n\n${block}` : "";
    })
    .filter((t) => t !== "");
  const text = tails.length > 0 ? truncateMarkdown(tails.join("\n"), GITHUB_TEXT_LIMIT) : undefined;
  return { title: title.slice(0, 255), summary, ...(text ? { text } : {}) };
}

function rank(n: NodeStatus): number {
  if (n.phase === "Failed" || n.phase === "Error") return 0;
  if (n.phase === "Running" || n.phase === "Pending") return 1;
  return 2;
}

function indexOf(n: NodeStatus): number {
  return loopItemOf(n)?.index ?? Number.MAX_SAFE_INTEGER;
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
