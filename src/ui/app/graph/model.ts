// Turns a workflow's `status.nodes` into the graph Argo's UI draws: a walk from the root along `children`,
// step and task groups hidden (a few pixels, so edges pass through them), fan-outs above a threshold
// collapsed to first / "n hidden nodes" / last until expanded, the exit handler linked from the root's
// outbound nodes, and lifecycle hooks linked from the node that owns them.
import type { NodeStatus, Workflow } from "../types.js";

export type GraphNodeKind = "node" | "collapsed" | "hidden";

export interface GraphNode {
  id: string;
  kind: GraphNodeKind;
  label: string;
  width: number;
  height: number;
  /** The status node (absent for a collapsed placeholder). */
  status?: NodeStatus;
  /** For a collapsed placeholder: the node whose children it stands for, and how many it hides. */
  parentId?: string;
  hidden?: number;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  kind: "child" | "onExit" | "hook";
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Changes only when nodes or edges are added or removed, i.e. when a new layout is needed. */
  shape: string;
}

export interface GraphOptions {
  /** Ids of nodes whose children are all shown; "*" expands everything. */
  expanded?: ReadonlySet<string>;
  /** Fan-outs with more children than this are collapsed (Argo: 3). */
  collapseThreshold?: number;
}

/** Node types Argo hides in the graph by default. */
const HIDDEN_TYPES = new Set(["StepGroup", "TaskGroup"]);

export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 40;
const HIDDEN_SIZE = 4;

export function collapsedId(parentId: string): string {
  return `${parentId}:collapsed`;
}

/** The root node: the one whose id is the workflow's name, else the one no other node lists as a child. */
export function findRoot(workflow: Workflow): NodeStatus | undefined {
  const nodes = workflow.status?.nodes ?? {};
  const byName = workflow.metadata.name ? nodes[workflow.metadata.name] : undefined;
  if (byName) return byName;
  const children = new Set(Object.values(nodes).flatMap((n) => n.children ?? []));
  return Object.values(nodes).find(
    (n) => !children.has(n.id) && !n.name.includes(".onExit") && !n.name.includes(".hooks."),
  );
}

export function prepareGraph(workflow: Workflow, options: GraphOptions = {}): Graph {
  const nodes = workflow.status?.nodes ?? {};
  const expanded = options.expanded ?? new Set<string>();
  const threshold = options.collapseThreshold ?? 3;
  const out: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  const edgeIds = new Set<string>();

  const addEdge = (source: string, target: string, kind: GraphEdge["kind"]): void => {
    const id = `${source}->${target}`;
    if (edgeIds.has(id)) return;
    edgeIds.add(id);
    edges.push({ id, source, target, kind });
  };

  const walk = (startId: string): void => {
    const stack = [startId];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (seen.has(id)) continue;
      const status = nodes[id];
      if (!status) continue;
      seen.add(id);
      const hidden = HIDDEN_TYPES.has(status.type);
      out.push({
        id,
        kind: hidden ? "hidden" : "node",
        label: status.displayName ?? status.name,
        width: hidden ? HIDDEN_SIZE : NODE_WIDTH,
        height: hidden ? HIDDEN_SIZE : NODE_HEIGHT,
        status,
      });
      let children = (status.children ?? []).filter((c) => nodes[c]);
      if (children.length > threshold && !expanded.has(id) && !expanded.has("*")) {
        const first = children[0] as string;
        const last = children[children.length - 1] as string;
        const placeholder = collapsedId(id);
        out.push({
          id: placeholder,
          kind: "collapsed",
          label: `${children.length - 2} hidden nodes`,
          width: NODE_WIDTH,
          height: NODE_HEIGHT - 8,
          parentId: id,
          hidden: children.length - 2,
        });
        addEdge(id, placeholder, "child");
        children = [first, last];
      }
      for (const child of children) addEdge(id, child, "child");
      // Reverse so that the first child is walked (and listed) first.
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as string);
    }
  };

  const root = findRoot(workflow);
  if (root) walk(root.id);

  const byName = new Map(Object.values(nodes).map((n) => [n.name, n]));
  const wfName = workflow.metadata.name ?? root?.name ?? "";
  const onExit = byName.get(`${wfName}.onExit`);
  if (root && onExit && !seen.has(onExit.id)) {
    const outbound = (root.outboundNodes ?? []).filter((id) => seen.has(id));
    const sources = outbound.length > 0 ? outbound : leaves(out, edges);
    walk(onExit.id);
    for (const s of sources) if (s !== onExit.id) addEdge(s, onExit.id, "onExit");
  }

  // Lifecycle hooks: "<owner>.hooks.<hook>" hangs off its owner (the workflow's root for workflow hooks).
  for (const hook of Object.values(nodes)) {
    if (seen.has(hook.id)) continue;
    const m = /^(.*)\.hooks\.[^.]+$/.exec(hook.name);
    if (!m) continue;
    const owner = m[1] === wfName ? root : byName.get(m[1] as string);
    if (!owner || !seen.has(owner.id)) continue;
    walk(hook.id);
    addEdge(owner.id, hook.id, "hook");
  }

  return { nodes: out, edges, shape: shapeOf(out, edges) };
}

function leaves(nodes: GraphNode[], edges: GraphEdge[]): string[] {
  const sources = new Set(edges.map((e) => e.source));
  return nodes.filter((n) => n.kind === "node" && !sources.has(n.id)).map((n) => n.id);
}

function shapeOf(nodes: GraphNode[], edges: GraphEdge[]): string {
  // FNV-1a over ids: a short key that changes when the set of nodes or edges does.
  let h = 0x811c9dc5;
  const mix = (s: string): void => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  };
  for (const n of nodes) mix(n.id + n.kind + n.label);
  for (const e of edges) mix(e.id);
  return `${nodes.length}:${edges.length}:${h.toString(36)}`;
}

/** Nodes in display order for the list view: the walk's order first, then any the walk did not reach. */
export function listNodes(workflow: Workflow): NodeStatus[] {
  const nodes = workflow.status?.nodes ?? {};
  const graph = prepareGraph(workflow, { expanded: new Set(["*"]) });
  const order = graph.nodes.flatMap((n) => (n.status && n.kind === "node" ? [n.status] : []));
  const seen = new Set(order.map((n) => n.id));
  for (const n of Object.values(nodes)) if (!seen.has(n.id) && !HIDDEN_TYPES.has(n.type)) order.push(n);
  return order;
}

/** Argo's pod name of a node (v2 names unless the workflow says v1): what the log endpoint takes as podName. */
export function podNameOf(workflow: Workflow, node: NodeStatus): string {
  const wf = workflow.metadata.name ?? "";
  if (workflow.metadata.annotations?.["workflows.argoproj.io/pod-name-format"] === "v1") return node.id;
  if (node.name === wf) return wf;
  const template = node.templateName ?? node.templateRef?.template ?? "";
  const prefix = (template ? `${wf}-${template}` : wf).slice(0, 241);
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(node.name)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return `${prefix}-${h >>> 0}`;
}
