// Lays a prepared graph out with elkjs (layered, like Argo's dagre layout): the same function runs on the
// main thread for small graphs and inside layout-worker.ts for large ones.
import * as elkModule from "elkjs/lib/elk.bundled.js";
import type { ELK, ElkNode } from "elkjs/lib/elk-api.js";

// elkjs is CommonJS: its constructor is the default export once bundled, the module itself otherwise.
const ElkConstructor = ((elkModule as { default?: unknown }).default ?? elkModule) as new () => ELK;

export interface LayoutInput {
  nodes: { id: string; width: number; height: number }[];
  edges: { id: string; source: string; target: string }[];
  direction: "RIGHT" | "DOWN";
}

export interface LayoutResult {
  width: number;
  height: number;
  positions: Record<string, { x: number; y: number }>;
  /** Edge id -> polyline points. */
  routes: Record<string, { x: number; y: number }[]>;
}

let elk: ELK | undefined;

export async function layoutGraph(input: LayoutInput): Promise<LayoutResult> {
  elk ??= new ElkConstructor();
  const large = input.nodes.length > 1500;
  const graph: ElkNode = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": input.direction,
      "elk.spacing.nodeNode": "20",
      "elk.layered.spacing.nodeNodeBetweenLayers": "40",
      "elk.edgeRouting": large ? "POLYLINE" : "ORTHOGONAL",
      // Node order follows the children order (first item first), as in Argo.
      "elk.layered.crossingMinimization.forceNodeModelOrder": "true",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      ...(large ? { "elk.layered.thoroughness": "1", "elk.layered.nodePlacement.strategy": "SIMPLE" } : {}),
    },
    children: input.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
    edges: input.edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  };
  const laid = await elk.layout(graph);
  const positions: LayoutResult["positions"] = {};
  for (const c of laid.children ?? []) positions[c.id] = { x: c.x ?? 0, y: c.y ?? 0 };
  const routes: LayoutResult["routes"] = {};
  for (const e of laid.edges ?? []) {
    const s = e.sections?.[0];
    if (s) routes[e.id] = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint];
  }
  return { width: laid.width ?? 0, height: laid.height ?? 0, positions, routes };
}
