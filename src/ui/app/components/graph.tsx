// The workflow graph: SVG boxes placed by elkjs. A phase change only recolours; a new layout is made only
// when nodes or edges appear or disappear (graph.shape), so live updates of big workflows stay cheap.
import type { JSX } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Graph, GraphNode } from "../graph/model.js";
import type { LayoutResult } from "../graph/layout.js";
import { layout } from "../graph/layout-client.js";
import { phaseClass, phaseIcon } from "../phase.js";

export function WorkflowGraph(props: {
  graph: Graph;
  direction: "RIGHT" | "DOWN";
  selected: string | undefined;
  onSelect: (node: GraphNode) => void;
  onExpand: (parentId: string) => void;
  onLayout?: (ms: number) => void;
}): JSX.Element {
  const { graph } = props;
  const [laid, setLaid] = useState<{ shape: string; result: LayoutResult } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const latest = useRef(graph);
  latest.current = graph;
  const key = `${graph.shape}/${props.direction}`;

  useEffect(() => {
    let cancelled = false;
    const started = performance.now();
    layout({
      nodes: graph.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
      edges: graph.edges,
      direction: props.direction,
    }).then(
      (result) => {
        if (cancelled) return;
        setLaid({ shape: key, result });
        props.onLayout?.(performance.now() - started);
      },
      (e: unknown) => !cancelled && setError(String(e)),
    );
    return () => {
      cancelled = true;
    };
    // Only a change of shape or direction needs a new layout; phases are read from `graph` at render.
  }, [key]);

  const byId = useMemo(() => new Map(graph.nodes.map((n) => [n.id, n])), [graph]);
  if (error) return <div class="error">Layout failed: {error}</div>;
  if (!laid)
    return (
      <div class="loading" aria-busy="true">
        Laying out {graph.nodes.length} nodes…
      </div>
    );
  const { result } = laid;

  return (
    <div class="graph-scroll" role="group" aria-label="Workflow graph">
      <svg
        class="graph"
        width={result.width + 20}
        height={result.height + 20}
        viewBox={`-10 -10 ${result.width + 20} ${result.height + 20}`}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="6"
            markerHeight="6"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="arrow" />
          </marker>
        </defs>
        {graph.edges.map((e) => {
          const pts = result.routes[e.id];
          if (!pts) return null;
          const target = byId.get(e.target);
          return (
            <polyline
              key={e.id}
              class={`edge edge-${e.kind}`}
              points={pts.map((p) => `${p.x},${p.y}`).join(" ")}
              marker-end={target?.kind === "hidden" ? undefined : "url(#arrow)"}
            />
          );
        })}
        {graph.nodes.map((n) => {
          const pos = result.positions[n.id];
          if (!pos) return null;
          if (n.kind === "hidden")
            return <circle key={n.id} class="group-dot" cx={pos.x + 2} cy={pos.y + 2} r={2} />;
          const status = n.status;
          const suspended = status?.type === "Suspend" && status.phase === "Running";
          const phase = n.kind === "collapsed" ? "collapsed" : suspended ? "Suspended" : status?.phase;
          const activate = (): void =>
            n.kind === "collapsed" ? props.onExpand(n.parentId as string) : props.onSelect(n);
          const label =
            n.kind === "collapsed"
              ? `${n.label}, press Enter to expand`
              : `${n.label}: ${status?.type ?? ""} ${phase ?? "Pending"}`;
          return (
            <g
              key={n.id}
              class={`gnode ${n.kind === "collapsed" ? "collapsed" : phaseClass(phase)} ${props.selected === n.id ? "selected" : ""}`}
              transform={`translate(${pos.x},${pos.y})`}
              // SVG attributes are case-sensitive: "tabIndex" would not make the node focusable.
              tabindex={0}
              role="button"
              aria-label={label}
              data-node-id={n.id}
              data-phase={phase}
              onClick={activate}
              onKeyDown={(e) => {
                if (e.key === "Enter" || e.key === " ") {
                  e.preventDefault();
                  activate();
                }
              }}
            >
              <rect width={n.width} height={n.height} rx={n.kind === "collapsed" ? 16 : 6} />
              <text x={10} y={n.height / 2 + 5} class="gicon" aria-hidden="true">
                {n.kind === "collapsed" ? "⋯" : phaseIcon(phase)}
              </text>
              <text x={30} y={n.height / 2 + 5} class="glabel">
                {truncate(n.label, 20)}
              </text>
              {status && typeBadge(status.type) && (
                <text x={n.width - 8} y={12} class="gtype" text-anchor="end" aria-hidden="true">
                  {typeBadge(status.type)}
                </text>
              )}
              <title>{label}</title>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

function typeBadge(type: string): string {
  return (
    (
      {
        Retry: "retry",
        DAG: "dag",
        Steps: "steps",
        Suspend: "suspend",
        HTTP: "http",
        Plugin: "plugin",
      } as Record<string, string>
    )[type] ?? ""
  );
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
