import { workflowUiUrl } from "../links.js";
import type { NodePhase, NodeStatus, Parameter, Workflow } from "../../../runtime/spec/types.js";
import { formatDuration } from "../console/tree.js";
import type { CheckConclusion } from "./client.js";

/** GitHub's limit on a check run's `output.summary` and `output.text`, in characters. */
export const GITHUB_TEXT_LIMIT = 65_535;

const DEADLINE = /exceeded its deadline|longer than the specified deadline|deadline exceeded/i;
const STOPPED = /^Stopped with strategy|terminated|cancelled/i;

/** Phase marks of the status table. */
export const PHASE_MARKS: Record<NodePhase, string> = {
  Pending: "⏳",
  Running: "🔄",
  Succeeded: "✅",
  Failed: "❌",
  Error: "⚠️",
  Skipped: "⏭️",
  Omitted: "⏭️",
};

/** The check-run conclusion of a finished node or workflow phase. */
export function conclusionOf(phase: string | undefined, message?: string): CheckConclusion {
  switch (phase) {
    case "Succeeded":
      return "success";
    case "Skipped":
    case "Omitted":
      return "skipped";
    case "Failed":
    case "Error":
      if (message && DEADLINE.test(message)) return "timed_out";
      if (message && STOPPED.test(message)) return "cancelled";
      return "failure";
    default:
      return "neutral";
  }
}

/**
 * Replaces every secret value, and its base64 forms (see {@link base64Forms}), by `***`, longest first so that
 * overlapping secrets are masked whole. This is what GitHub's runner masks in the job log.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const values = new Set<string>();
  for (const s of secrets) {
    if (s.length < 3) continue;
    values.add(s);
    for (const b of base64Forms(s)) values.add(b);
  }
  let out = text;
  for (const v of [...values].sort((a, b) => b.length - a.length)) out = out.split(v).join("***");
  return out;
}

/** Base64 forms shorter than this are not masked: they would hide common text, not a secret. */
const MIN_BASE64_FORM = 4;

/**
 * The text a secret's UTF-8 bytes always turn into when base64-encoded, at each of the 3 byte offsets they can
 * start at (`base64("user:" + secret)` puts them at offset 2): the encoding of the value preceded by 0, 1 or 2
 * bytes, without the leading characters that mix in those bytes and the trailing ones that mix in what follows
 * (or padding). GitHub's runner masks the same three forms.
 */
export function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
    // Each character holds 6 bits: keep those made only of the secret's bits.
    const first = Math.ceil((offset * 8) / 6);
    const last = Math.floor(((offset + bytes.length) * 8) / 6);
    const form = encoded.slice(first, last);
    if (form.length >= MIN_BASE64_FORM) forms.push(form);
  }
  return forms;
}

/**
 * Cuts text to `limit` characters, on a line boundary where possible, and says so visibly: a reader must never
 * mistake a cut output for a whole one.
 */
export function truncateMarkdown(text: string, limit = GITHUB_TEXT_LIMIT, notice?: string): string {
  if (text.length <= limit) return text;
  const tail = `\n\n> [!WARNING]\n> ${notice ?? `Output truncated: ${text.length} characters, GitHub keeps ${limit}.`}\n`;
  let cut = text.slice(0, Math.max(0, limit - tail.length));
  const nl = cut.lastIndexOf("\n");
  if (nl > cut.length / 2) cut = cut.slice(0, nl);
  // An open code fence would swallow the notice.
  if ((cut.match(/^```/gm) ?? []).length % 2 === 1) cut = cut.slice(0, Math.max(0, cut.length - 4)) + "\n```";
  return cut + tail;
}

/** Escapes text for a markdown table cell. */
export function cell(text: string | undefined): string {
  return (text ?? "").replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** Duration of a node or workflow, from its times; `now` for what still runs. */
export function durationOf(
  item: { startedAt?: string; finishedAt?: string } | undefined,
  now: number,
): string {
  if (!item?.startedAt) return "";
  const end = item.finishedAt ? Date.parse(item.finishedAt) : now;
  return formatDuration(end - Date.parse(item.startedAt));
}

/**
 * A step's name relative to its workflow: `build`, `test(0:node:20)`, `outer.inner`. Step-group indexes
 * (`[0].`) are dropped: step names are unique within their template, so the rest still tells steps apart.
 */
export function stepName(node: NodeStatus, workflowName: string): string {
  // A workflow that is a single step: its generated name changes every run, its template's does not.
  if (node.name === workflowName) return node.templateName ?? node.templateRef?.template ?? node.displayName;
  if (!node.name.startsWith(workflowName)) return node.displayName || node.name;
  const rest = node.name
    .slice(workflowName.length)
    .replace(/\[\d+\]\./g, ".")
    .replace(/^\./, "");
  return rest === "" ? node.displayName || node.name : rest;
}

const LEAF_TYPES = new Set(["Pod", "Container", "HTTP", "Plugin", "Suspend", "Skipped"]);

/**
 * The steps a user thinks of: nodes that run something (pods, HTTP and plugin steps, suspends, skipped
 * steps) and Retry nodes, whose attempts are shown inside them. Exit handlers and hooks count too.
 */
export function leafSteps(wf: Workflow): NodeStatus[] {
  const nodes = wf.status?.nodes ?? {};
  const attempts = new Set<string>();
  for (const n of Object.values(nodes))
    if (n.type === "Retry") for (const c of n.children ?? []) attempts.add(c);
  return Object.values(nodes)
    .filter((n) => (n.type === "Retry" || LEAF_TYPES.has(n.type)) && !attempts.has(n.id))
    .sort(byStart);
}

/** Whether a node is a step the reporter shows as its own check (see {@link leafSteps}). */
export function isLeafStep(wf: Workflow, node: NodeStatus): boolean {
  if (node.type !== "Retry" && !LEAF_TYPES.has(node.type)) return false;
  for (const n of Object.values(wf.status?.nodes ?? {}))
    if (n.type === "Retry" && n.children?.includes(node.id)) return false;
  return true;
}

function byStart(a: NodeStatus, b: NodeStatus): number {
  const sa = a.startedAt ?? "~";
  const sb = b.startedAt ?? "~";
  return sa < sb ? -1 : sa > sb ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The status table of a workflow's steps. */
export function statusTable(
  wf: Workflow,
  now: number,
  secrets: readonly string[] = [],
  serverUrl?: string,
): string {
  const name = wf.metadata.name ?? "";
  const rows = leafSteps(wf).map((n) => {
    const message = n.message ? maskSecrets(n.message, secrets) : "";
    // With a server URL each step links to its node in the web UI.
    const url = workflowUiUrl(serverUrl, wf, n.id);
    const step = url
      ? `[${cell(stepName(n, name)).replace(/[[\]]/g, "\\$&")}](${url})`
      : cell(stepName(n, name));
    return `| ${PHASE_MARKS[n.phase]} | ${step} | ${cell(n.phase)} | ${durationOf(n, now)} | ${cell(message)} |`;
  });
  if (rows.length === 0) return "_No steps ran._\n";
  return ["| | Step | Phase | Duration | Message |", "|---|---|---|---|---|", ...rows].join("\n") + "\n";
}

/** A two-column table of parameters; values are masked and shortened. */
export function parameterTable(
  title: string,
  params: readonly Parameter[] | undefined,
  secrets: readonly string[],
) {
  const rows = (params ?? []).map((p) => {
    const v = maskSecrets(String(p.value ?? p.default ?? ""), secrets);
    return `| ${cell(p.name)} | ${v === "" ? "" : `\`${cell(v.length > 200 ? v.slice(0, 200) + "…" : v).replace(/`/g, "'")}\``} |`;
  });
  if (rows.length === 0) return "";
  return [`| ${title} | Value |`, "|---|---|", ...rows].join("\n") + "\n";
}

const PHASE_STYLE: Record<NodePhase, string> = {
  Succeeded: "fill:#1f883d,stroke:#1a7f37,color:#ffffff",
  Failed: "fill:#cf222e,stroke:#a40e26,color:#ffffff",
  Error: "fill:#cf222e,stroke:#a40e26,color:#ffffff",
  Running: "fill:#bf8700,stroke:#9a6700,color:#ffffff",
  Pending: "fill:#eaeef2,stroke:#8c959f,color:#24292f",
  Skipped: "fill:#f6f8fa,stroke:#d0d7de,color:#57606a",
  Omitted: "fill:#f6f8fa,stroke:#d0d7de,color:#57606a",
};

/** The most nodes drawn: GitHub stops rendering larger diagrams. */
export const MERMAID_NODE_LIMIT = 400;

/**
 * The workflow's node graph as a Mermaid flowchart, each node coloured by phase. Group nodes (step groups,
 * task groups) are left out and their edges joined, so the picture shows steps and what follows what.
 */
export function mermaidGraph(wf: Workflow): string {
  const nodes = wf.status?.nodes ?? {};
  const name = wf.metadata.name ?? "";
  const hidden = (n: NodeStatus | undefined) =>
    n !== undefined && (n.type === "StepGroup" || n.type === "TaskGroup");
  const ids = new Map<string, string>();
  const shown = Object.values(nodes)
    .filter((n) => !hidden(n))
    .sort(byStart)
    .slice(0, MERMAID_NODE_LIMIT);
  shown.forEach((n, i) => ids.set(n.id, `n${i}`));
  const lines = ["```mermaid", "flowchart TD"];
  for (const n of shown) {
    const label = `${PHASE_MARKS[n.phase]} ${n.name === name && n.type !== "Pod" ? name : stepName(n, name)}`;
    lines.push(`  ${ids.get(n.id)}["${label.replace(/"/g, "#quot;")}"]:::${n.phase.toLowerCase()}`);
  }
  const edges = new Set<string>();
  const targets = (id: string, seen = new Set<string>()): string[] => {
    const n = nodes[id];
    if (!n || seen.has(id)) return [];
    seen.add(id);
    if (!hidden(n)) return ids.has(id) ? [id] : [];
    return (n.children ?? []).flatMap((c) => targets(c, seen));
  };
  for (const n of shown)
    for (const c of n.children ?? [])
      for (const t of targets(c)) {
        const e = `  ${ids.get(n.id)} --> ${ids.get(t)}`;
        if (!edges.has(e)) edges.add(e);
      }
  lines.push(...edges);
  for (const phase of new Set(shown.map((n) => n.phase)))
    lines.push(`  classDef ${phase.toLowerCase()} ${PHASE_STYLE[phase]}`);
  lines.push("```");
  const omitted = Object.values(nodes).filter((n) => !hidden(n)).length - shown.length;
  return lines.join("\n") + "\n" + (omitted > 0 ? `\n_${omitted} more nodes are not drawn._\n` : "");
}

/** Lines of a log tail as a fenced block, masked. */
export function logBlock(lines: readonly string[], secrets: readonly string[], omitted = 0): string {
  if (lines.length === 0) return "";
  const body = lines.map((l) => maskSecrets(l, secrets).replace(/```/g, "'''")).join("\n");
  const head = omitted > 0 ? `_Last ${lines.length} lines (${omitted} earlier lines not shown)._\n\n` : "";
  return `${head}\`\`\`text\n${body}\n\`\`\`\n`;
}
