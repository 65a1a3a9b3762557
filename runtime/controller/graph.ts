import type { NodePhase, NodeStatus, NodeType } from "../spec/types.js";

/** Argo's `Completed`: Succeeded, Failed or Error (Skipped/Omitted are not completed). */
export function isCompleted(phase: NodePhase): boolean {
  return phase === "Succeeded" || phase === "Failed" || phase === "Error";
}

export function isFailedOrError(phase: NodePhase): boolean {
  return phase === "Failed" || phase === "Error";
}

/** Argo's `Fulfilled`: done for dependency purposes (a ready daemon counts). */
export function isFulfilled(node: NodeStatus): boolean {
  return (
    isCompleted(node.phase) ||
    node.phase === "Skipped" ||
    node.phase === "Omitted" ||
    (node.daemoned === true && node.phase !== "Pending")
  );
}

/** Node types that count in progress `N/M`. */
export function isExecutable(type: NodeType): boolean {
  return type === "Pod" || type === "Container" || type === "HTTP" || type === "Plugin" || type === "Suspend";
}

/** `displayName`: the node name without the boundary node's name, then a leading `[n].` or `.` removed. */
export function displayNameOf(name: string, boundaryName: string | undefined): string {
  if (boundaryName === undefined || !name.startsWith(boundaryName) || name === boundaryName) return name;
  let rest = name.slice(boundaryName.length);
  const m = /^\[\d+\]\./.exec(rest);
  if (m) rest = rest.slice(m[0].length);
  else if (rest.startsWith(".")) rest = rest.slice(1);
  return rest;
}

/** Argo's `getOutboundNodes`. */
export function outboundNodes(nodes: Readonly<Record<string, NodeStatus>>, id: string): string[] {
  const node = nodes[id];
  if (!node) return [];
  switch (node.type) {
    case "Pod":
      if (node.children?.length && node.children.some((c) => nodes[c]?.type === "Container")) {
        return outboundOfChildren(nodes, node, "Container");
      }
      return [id];
    case "Skipped":
    case "Suspend":
    case "HTTP":
    case "Plugin":
      return [id];
    case "Retry": {
      const attempts = (node.children ?? []).filter((c) => nodes[c]?.nodeFlag?.retried);
      const last = attempts[attempts.length - 1];
      return last ? [last] : [id];
    }
    case "TaskGroup":
      return node.children?.length ? outboundOfChildren(nodes, node) : [id];
    case "Container":
      return node.children?.some((c) => nodes[c]?.type === "Container")
        ? outboundOfChildren(nodes, node, "Container")
        : [id];
    case "Steps":
    case "DAG":
      if (node.memoizationStatus?.hit) return [id];
      return node.outboundNodes?.length ? [...node.outboundNodes] : [id];
    default:
      return [id];
  }
}

function outboundOfChildren(
  nodes: Readonly<Record<string, NodeStatus>>,
  node: NodeStatus,
  onlyType?: NodeType,
): string[] {
  const out = new Set<string>();
  for (const c of node.children ?? []) {
    const child = nodes[c];
    if (!child || (onlyType && child.type !== onlyType)) continue;
    if (child.nodeFlag?.hooked) continue;
    for (const o of outboundNodes(nodes, c)) out.add(o);
  }
  return out.size ? [...out] : [node.id];
}

/** Progress of non-executable nodes: the sum over descendants reachable through `children`. */
export function computeProgress(nodes: Record<string, NodeStatus>): string {
  let done = 0;
  let total = 0;
  for (const n of Object.values(nodes)) {
    if (!isExecutable(n.type)) continue;
    const [d, t] = parseProgress(n.progress) ?? [0, 1];
    done += d;
    total += t;
  }
  for (const n of Object.values(nodes)) {
    if (isExecutable(n.type)) continue;
    const seen = new Set<string>();
    const stack = [...(n.children ?? [])];
    let d = 0;
    let t = 0;
    while (stack.length) {
      const c = stack.pop() as string;
      if (seen.has(c)) continue;
      seen.add(c);
      const child = nodes[c];
      if (!child) continue;
      if (isExecutable(child.type)) {
        const p = parseProgress(child.progress) ?? [0, 1];
        d += p[0];
        t += p[1];
      }
      for (const g of child.children ?? []) if (!seen.has(g)) stack.push(g);
    }
    if (t > 0) n.progress = `${d}/${t}`;
  }
  return `${done}/${total}`;
}

export function parseProgress(p: string | undefined): [number, number] | undefined {
  if (!p) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(p);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2])];
}
