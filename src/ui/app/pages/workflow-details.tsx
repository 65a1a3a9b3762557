// One workflow: its graph (or a virtualised node list), live from the workflow-events stream, the node
// panel, and the workflow's actions. Archived workflows render the same way, without the watch.
import type { JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, get, watchWorkflows } from "../api.js";
import { DESTRUCTIVE, availableActions, resumeNode, runAction, type WorkflowAction } from "../actions.js";
import { ErrorBanner, PhaseBadge, confirmAction } from "../components/common.js";
import { WorkflowGraph } from "../components/graph.js";
import { NodePanel, type PanelTab } from "../components/node-panel.js";
import { VirtualList } from "../components/virtual-list.js";
import { listNodes, prepareGraph } from "../graph/model.js";
import { formatDuration, formatTime, isCompleted, phaseIcon } from "../phase.js";
import { Link, navigate, setQuery, useLocation } from "../router.js";
import type { NodeStatus, Workflow } from "../types.js";

const ACTION_LABELS: Record<WorkflowAction, string> = {
  retry: "Retry",
  resubmit: "Resubmit",
  suspend: "Suspend",
  resume: "Resume",
  stop: "Stop",
  terminate: "Terminate",
  delete: "Delete",
};

/** Measurements the benchmark reads from the page. */
declare global {
  interface Window {
    __skiffPerf?: { layouts: number[]; updates: number };
  }
}

export function WorkflowDetails(props: {
  namespace: string;
  name?: string;
  uid?: string;
  archived?: boolean;
}): JSX.Element {
  const { namespace, archived = false } = props;
  const loc = useLocation();
  const tab = loc.query.get("tab") === "list" ? "list" : "graph";
  const nodeId = loc.query.get("nodeId") ?? undefined;
  const panelTab = (loc.query.get("nodePanelView") as PanelTab | null) ?? "summary";
  const [workflow, setWorkflow] = useState<Workflow | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [actionError, setActionError] = useState<unknown>(undefined);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [direction, setDirection] = useState<"RIGHT" | "DOWN">("RIGHT");
  const [gone, setGone] = useState(false);

  // Fetch, then follow the workflow-events stream for this one workflow while it is live.
  useEffect(() => {
    const ac = new AbortController();
    setWorkflow(undefined);
    setError(undefined);
    setGone(false);
    let watch: { close(): void } | undefined;
    const load = async (): Promise<void> => {
      if (archived) {
        setWorkflow(
          await get<Workflow>(
            `api/v1/archived-workflows/${encodeURIComponent(props.uid ?? "")}`,
            { namespace },
            ac.signal,
          ),
        );
        return;
      }
      const wf = await get<Workflow>(
        `api/v1/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(props.name ?? "")}`,
        props.uid ? { uid: props.uid } : undefined,
        ac.signal,
      );
      if (ac.signal.aborted) return;
      setWorkflow(wf);
      watch = watchWorkflows<Workflow>(
        namespace,
        {
          "listOptions.fieldSelector": `metadata.namespace=${namespace},metadata.name=${props.name ?? ""}`,
          // From the fetched version on: a change made between the fetch and the watch is not lost.
          "listOptions.resourceVersion": wf.metadata.resourceVersion,
        },
        (event) => {
          if (event.type === "DELETED") setGone(true);
          else if (event.type !== "ERROR") {
            const perf = (window.__skiffPerf ??= { layouts: [], updates: 0 });
            perf.updates++;
            setWorkflow(event.object);
          }
        },
      );
    };
    load().catch((e: unknown) => {
      if (ac.signal.aborted) return;
      setError(
        e instanceof ApiError && e.status === 404
          ? new Error(`Workflow ${namespace}/${props.name ?? props.uid} not found`)
          : e,
      );
    });
    return () => {
      ac.abort();
      watch?.close();
    };
  }, [namespace, props.name, props.uid, archived]);

  const graph = useMemo(
    () => (workflow ? prepareGraph(workflow, { expanded }) : undefined),
    [workflow, expanded],
  );
  const nodes = useMemo(() => (workflow && tab === "list" ? listNodes(workflow) : []), [workflow, tab]);

  if (error) return <ErrorBanner error={error} />;
  if (!workflow || !graph)
    return (
      <div class="loading" aria-busy="true">
        Loading…
      </div>
    );

  const selected: NodeStatus | undefined = nodeId ? workflow.status?.nodes?.[nodeId] : undefined;
  const actions = availableActions(workflow, archived);
  const act = async (action: WorkflowAction): Promise<void> => {
    setActionError(undefined);
    if (
      DESTRUCTIVE.has(action) &&
      !(await confirmAction(
        `${ACTION_LABELS[action]} workflow ${workflow.metadata.name}?`,
        ACTION_LABELS[action],
      ))
    )
      return;
    try {
      const result = await runAction(workflow, action, archived);
      if (action === "delete")
        navigate(archived ? `/archived-workflows/${namespace}` : `/workflows/${namespace}`);
      else if ((action === "resubmit" || archived) && result.metadata?.name)
        navigate(`/workflows/${result.metadata.namespace ?? namespace}/${result.metadata.name}`);
      else if (result.metadata) setWorkflow(result);
    } catch (e) {
      setActionError(e);
    }
  };
  const status = workflow.status ?? {};
  const nodeCount = Object.keys(status.nodes ?? {}).length;

  return (
    <div class="details">
      <header class="page-head">
        <h1>
          <PhaseBadge phase={status.phase} label="" /> {workflow.metadata.name}
          {archived && <span class="tag">archived</span>}
          {gone && <span class="tag">deleted</span>}
        </h1>
        <div class="toolbar" role="toolbar" aria-label="Workflow actions">
          {(Object.keys(ACTION_LABELS) as WorkflowAction[]).map((a) => (
            <button
              key={a}
              type="button"
              class={DESTRUCTIVE.has(a) ? "danger" : ""}
              disabled={!actions.has(a)}
              onClick={() => void act(a)}
            >
              {ACTION_LABELS[a]}
            </button>
          ))}
        </div>
      </header>
      <ErrorBanner error={actionError} />
      <div class="summary-line">
        <span>
          Phase: <strong data-testid="workflow-phase">{status.phase || "Pending"}</strong>
        </span>
        <span>Started {formatTime(status.startedAt)}</span>
        <span>Duration {formatDuration(status.startedAt, status.finishedAt)}</span>
        {status.progress && <span>Progress {status.progress}</span>}
        <span>{nodeCount} nodes</span>
        {status.message && <span class="muted">{status.message}</span>}
        {workflow.spec?.workflowTemplateRef?.name && (
          <span>
            Template{" "}
            <Link
              to={
                workflow.spec.workflowTemplateRef.clusterScope
                  ? `/cluster-workflow-templates/${workflow.spec.workflowTemplateRef.name}`
                  : `/workflow-templates/${namespace}/${workflow.spec.workflowTemplateRef.name}`
              }
            >
              {workflow.spec.workflowTemplateRef.name}
            </Link>
          </span>
        )}
      </div>
      <div class="toolbar" role="tablist" aria-label="View">
        <button
          type="button"
          role="tab"
          aria-selected={tab === "graph"}
          onClick={() => setQuery("tab", undefined)}
        >
          Graph
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === "list"}
          onClick={() => setQuery("tab", "list")}
        >
          Node list
        </button>
        {tab === "graph" && (
          <>
            <button type="button" onClick={() => setDirection(direction === "RIGHT" ? "DOWN" : "RIGHT")}>
              {direction === "RIGHT" ? "Top to bottom" : "Left to right"}
            </button>
            <button type="button" onClick={() => setExpanded(new Set(expanded.has("*") ? [] : ["*"]))}>
              {expanded.has("*") ? "Collapse loops" : "Expand all"}
            </button>
          </>
        )}
      </div>
      <div class="details-body">
        <div class="details-main">
          {tab === "graph" ? (
            <WorkflowGraph
              graph={graph}
              direction={direction}
              selected={nodeId}
              onSelect={(n) => setQuery("nodeId", n.id)}
              onExpand={(id) => setExpanded(new Set([...expanded, id]))}
              onLayout={(ms) => (window.__skiffPerf ??= { layouts: [], updates: 0 }).layouts.push(ms)}
            />
          ) : (
            <NodeList nodes={nodes} selected={nodeId} />
          )}
        </div>
        {selected && (
          <NodePanel
            workflow={workflow}
            node={selected}
            artifactSource={
              archived
                ? { kind: "archived-workflows", id: workflow.metadata.uid ?? "" }
                : { kind: "workflows", id: workflow.metadata.name ?? "" }
            }
            tab={panelTab}
            onTab={(t) => setQuery("nodePanelView", t === "summary" ? undefined : t)}
            onClose={() => setQuery("nodeId", undefined)}
            {...(!archived
              ? {
                  onResume: () =>
                    void resumeNode(workflow, selected.id).then(
                      (wf) => wf.metadata && setWorkflow(wf),
                      setActionError,
                    ),
                }
              : {})}
          />
        )}
      </div>
    </div>
  );
}

function NodeList(props: { nodes: NodeStatus[]; selected: string | undefined }): JSX.Element {
  const index = props.nodes.findIndex((n) => n.id === props.selected);
  const move = (delta: number): void => {
    const next = props.nodes[Math.min(props.nodes.length - 1, Math.max(0, index + delta))];
    if (next) setQuery("nodeId", next.id);
  };
  return (
    <VirtualList
      label={`Nodes (${props.nodes.length}); arrow keys move the selection`}
      items={props.nodes}
      rowHeight={30}
      height={520}
      focusIndex={index}
      onKey={(e) => {
        const delta = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1 }[e.key];
        if (delta === undefined) return;
        e.preventDefault();
        move(delta);
      }}
      renderRow={(n) => (
        <button
          type="button"
          class={`noderow ${n.id === props.selected ? "selected" : ""}`}
          data-node-id={n.id}
          onClick={() => setQuery("nodeId", n.id)}
        >
          <span
            class={`phase phase-${(n.phase ?? "pending").toLowerCase()}`}
            aria-label={n.phase ?? "Pending"}
          >
            {phaseIcon(n.phase)}
          </span>
          <span class="noderow-name">{n.displayName ?? n.name}</span>
          <span class="muted">{n.type}</span>
          <span class="muted">
            {isCompleted(n.phase) ? formatDuration(n.startedAt, n.finishedAt) : (n.phase ?? "")}
          </span>
        </button>
      )}
    />
  );
}
