import type { NodePhase, NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import { podName } from "../../../runtime/spec/index.js";

/** Phase icons as `argo get` prints them. */
export const PHASE_ICONS: Record<NodePhase, string> = {
  Pending: "◷",
  Running: "●",
  Succeeded: "✔",
  Skipped: "○",
  Omitted: "○",
  Failed: "✖",
  Error: "⚠",
};

const ANSI: Record<NodePhase, string> = {
  Pending: "\x1b[33m",
  Running: "\x1b[36m",
  Succeeded: "\x1b[32m",
  Skipped: "\x1b[90m",
  Omitted: "\x1b[90m",
  Failed: "\x1b[31m",
  Error: "\x1b[31m",
};

export interface TreeOptions {
  /** Adds the PARAMETERS and OUTPUTS columns (`-o wide`). */
  wide?: boolean;
  /** Colour the icons with ANSI escapes. */
  color?: boolean;
  /** "now" for running nodes' durations, in ms. */
  now?: number;
}

interface Row {
  step: string;
  template: string;
  pod: string;
  duration: string;
  message: string;
  parameters: string;
  outputs: string;
}

/** Formats a duration the way `argo get` does: `5s`, `1m23s`, `2h5m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
}

function nodeDuration(n: NodeStatus, now: number): string {
  if (!n.startedAt) return "";
  const start = Date.parse(n.startedAt);
  const end = n.finishedAt ? Date.parse(n.finishedAt) : now;
  return formatDuration(end - start);
}

/**
 * Picks, for every node, the parent it is drawn under. `status.nodes[].children` is a graph (step group
 * i+1 hangs under every leaf of group i; a DAG task under each dependency), so the display tree follows
 * what `argo get` shows: groups under their Steps node, tasks under their DAG, attempts under the Retry.
 */
function displayParents(nodes: Record<string, NodeStatus>): Map<string, string> {
  const parent = new Map<string, string>();
  const byId = (id: string | undefined) => (id === undefined ? undefined : nodes[id]);
  for (const n of Object.values(nodes)) {
    for (const c of n.children ?? []) {
      const child = nodes[c];
      if (!child) continue;
      const owns =
        n.type === "StepGroup" ||
        n.type === "Retry" ||
        n.type === "TaskGroup" ||
        (n.type === "Pod" && child.type === "Container") ||
        child.name.startsWith(n.name + ".onExit") ||
        child.name.startsWith(n.name + ".hooks.");
      if (owns && child.type !== "StepGroup" && !parent.has(c)) parent.set(c, n.id);
    }
  }
  for (const n of Object.values(nodes)) {
    if (parent.has(n.id)) continue;
    const boundary = byId(n.boundaryID);
    if (n.type === "StepGroup" && boundary) parent.set(n.id, boundary.id);
    else if (boundary && n.name.startsWith(boundary.name + ".")) parent.set(n.id, boundary.id);
    else if (boundary && n.name.startsWith(boundary.name + "[")) parent.set(n.id, boundary.id);
  }
  return parent;
}

/** Renders `status.nodes` as the STEP/TEMPLATE/PODNAME/DURATION/MESSAGE table of `argo get`. */
export function renderNodeTree(wf: Workflow, options: TreeOptions = {}): string[] {
  const nodes = wf.status?.nodes ?? {};
  const wfName = wf.metadata.name ?? "";
  const now = options.now ?? Date.now();
  const parents = displayParents(nodes);
  // Ties on startedAt (second precision) keep the order the controller created the nodes in.
  const order = new Map(Object.keys(nodes).map((id, i) => [id, i]));
  const sortKey = (n: NodeStatus) =>
    `${n.startedAt ?? "~"}\u0000${String(order.get(n.id) ?? 0).padStart(9, "0")}`;
  const kids = new Map<string, NodeStatus[]>();
  const roots: NodeStatus[] = [];
  for (const n of Object.values(nodes)) {
    const p = parents.get(n.id);
    if (p === undefined) roots.push(n);
    else kids.set(p, [...(kids.get(p) ?? []), n]);
  }
  const childrenOf = (id: string): NodeStatus[] => {
    const list = kids.get(id) ?? [];
    // Step groups keep their index order; everything else by start time, then name.
    return list.sort((a, b) => {
      const ga = /\[(\d+)\]$/.exec(a.name);
      const gb = /\[(\d+)\]$/.exec(b.name);
      if (ga && gb && a.type === "StepGroup" && b.type === "StepGroup") return Number(ga[1]) - Number(gb[1]);
      return sortKey(a).localeCompare(sortKey(b));
    });
  };

  const rows: Row[] = [];
  const icon = (p: NodePhase) => (options.color ? `${ANSI[p]}${PHASE_ICONS[p]}\x1b[0m` : PHASE_ICONS[p]);
  const rowFor = (n: NodeStatus, prefix: string): Row => ({
    step: `${prefix}${icon(n.phase)} ${n.id === wfName ? n.name : n.displayName || n.name}`,
    template: n.templateRef ? `${n.templateRef.name}/${n.templateRef.template}` : (n.templateName ?? ""),
    pod: n.type === "Pod" ? podName(wfName, n.name, n.templateName ?? "") : "",
    duration: n.type === "Pod" || n.type === "Container" || n.id === wfName ? nodeDuration(n, now) : "",
    message: (n.message ?? "").replace(/\s+/g, " "),
    parameters: (n.inputs?.parameters ?? []).map((p) => `${p.name}=${p.value ?? ""}`).join(" "),
    outputs: [
      ...(n.outputs?.parameters ?? []).map((p) => `${p.name}=${p.value ?? ""}`),
      ...(n.outputs?.result !== undefined ? [`result=${truncate(n.outputs.result, 40)}`] : []),
    ].join(" "),
  });

  // Children of a node drawn below it; step groups are not drawn, their steps are (┬ marks parallel ones).
  const walk = (id: string, indent: string): void => {
    const list = childrenOf(id);
    list.forEach((child, i) => {
      const last = i === list.length - 1;
      if (child.type === "StepGroup") {
        const steps = childrenOf(child.id);
        if (steps.length === 0) return;
        steps.forEach((s, j) => {
          let lead: string;
          if (steps.length === 1) lead = last ? "└───" : "├───";
          else if (j === 0) lead = last ? "└─┬─" : "├─┬─";
          else lead = (last ? "  " : "│ ") + (j === steps.length - 1 ? "└─" : "├─");
          rows.push(rowFor(s, indent + lead));
          const under =
            indent +
            (last ? "  " : "│ ") +
            (steps.length > 1 ? (j === steps.length - 1 ? "  " : "│ ") : "  ");
          walk(s.id, under);
        });
        return;
      }
      rows.push(rowFor(child, indent + (last ? "└─" : "├─")));
      walk(child.id, indent + (last ? "  " : "│ "));
    });
  };

  roots.sort((a, b) => (a.id === wfName ? -1 : b.id === wfName ? 1 : sortKey(a).localeCompare(sortKey(b))));
  for (const r of roots) {
    rows.push(rowFor(r, " "));
    walk(r.id, " ");
  }

  const headers: Row = {
    step: "STEP",
    template: "TEMPLATE",
    pod: "PODNAME",
    duration: "DURATION",
    message: "MESSAGE",
    parameters: "PARAMETERS",
    outputs: "OUTPUTS",
  };
  const cols: (keyof Row)[] = options.wide
    ? ["step", "template", "pod", "duration", "parameters", "outputs", "message"]
    : ["step", "template", "pod", "duration", "message"];
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
  const width = Object.fromEntries(
    cols.map((c) => [c, Math.max(...[headers, ...rows].map((r) => [...visible(r[c])].length))]),
  ) as Record<keyof Row, number>;
  const line = (r: Row) =>
    cols
      .map((c, i) => (i === cols.length - 1 ? r[c] : r[c] + " ".repeat(width[c] - [...visible(r[c])].length)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

function truncate(s: string, n: number): string {
  const one = s.replace(/\s+/g, " ");
  return one.length > n ? one.slice(0, n - 1) + "…" : one;
}

/** The header block of `argo get`: name, status, times, progress, message. */
export function renderSummary(wf: Workflow, now = Date.now()): string[] {
  const st = wf.status ?? {};
  const out: string[] = [];
  const kv = (k: string, v: string | undefined) => {
    if (v !== undefined && v !== "") out.push(`${(k + ":").padEnd(20)} ${v}`);
  };
  kv("Name", wf.metadata.name);
  kv("Namespace", wf.metadata.namespace ?? "default");
  kv("Status", st.phase || "Pending");
  kv("Message", st.message);
  kv("Started", st.startedAt);
  kv("Finished", st.finishedAt);
  if (st.startedAt) {
    kv(
      "Duration",
      formatDuration((st.finishedAt ? Date.parse(st.finishedAt) : now) - Date.parse(st.startedAt)),
    );
  }
  kv("Progress", st.progress);
  const params = wf.spec.arguments?.parameters ?? [];
  if (params.length) {
    out.push("Parameters:");
    for (const p of params) out.push(`  ${p.name}: ${p.value ?? ""}`);
  }
  const outputs = st.outputs?.parameters ?? [];
  if (outputs.length) {
    out.push("Outputs:");
    for (const p of outputs) out.push(`  ${p.name}: ${p.value ?? ""}`);
  }
  return out;
}
