import { nodeId } from "../spec/index.js";
import type { NodeStatus, NodeType, Parameter, Workflow } from "../spec/types.js";
import { matchesSelector } from "./support.js";

/*
 * `argo retry` and `argo resubmit` as status transformations (Argo's `FormulateRetryWorkflow` and
 * `FormulateResubmitWorkflow`, workflow/util/util.go). Pure: the caller stores the result and runs it with
 * `resumeWorkflow`, which keeps the fulfilled nodes and executes the rest.
 */

/** Thrown when a workflow cannot be retried or resubmitted as asked; the message is Argo's. */
export class WorkflowRetryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkflowRetryError";
  }
}

export interface RetryWorkflowOptions {
  /** Also restart succeeded nodes the selector matches (Argo: `--restart-successful`). */
  restartSuccessful?: boolean;
  /** Node field selector, e.g. `displayName=build` or `templateName=a,phase!=Skipped`. */
  nodeFieldSelector?: string;
  /** Parameter overrides, in the order given on the command line. */
  parameters?: readonly (readonly [string, string])[];
  /** RFC3339 time: the workflow's and the reset nodes' new `startedAt`. */
  now: string;
}

export interface ResubmitWorkflowOptions {
  /** Name of the new workflow (Argo generates it from `generateName`; the caller does here). */
  name: string;
  /** Keep succeeded steps of a Failed/Error workflow, as `argo resubmit --memoized`. */
  memoized?: boolean;
  parameters?: readonly (readonly [string, string])[];
  now: string;
}

const LABEL_COMPLETED = "workflows.argoproj.io/completed";
const LABEL_PHASE = "workflows.argoproj.io/phase";
const LABEL_ARCHIVING = "workflows.argoproj.io/workflow-archiving-status";
/** Set on a resubmitted workflow: the name of the one it was resubmitted from. */
export const LABEL_RESUBMITTED_FROM = "workflows.argoproj.io/resubmitted-from-workflow";
const CREATOR_LABELS = [
  "workflows.argoproj.io/creator",
  "workflows.argoproj.io/creator-email",
  "workflows.argoproj.io/creator-preferred-username",
];

const failedOrError = (n: NodeStatus) => n.phase === "Failed" || n.phase === "Error";
const isGroupType = (t: NodeType) => t === "DAG" || t === "TaskGroup" || t === "StepGroup" || t === "Steps";
const isExecutionType = (t: NodeType) => t === "Container" || t === "Pod" || t === "HTTP" || t === "Plugin";

/** Why Argo refuses to retry this workflow, or undefined when it may be retried. */
export function retryRefusal(wf: Workflow, options: Omit<RetryWorkflowOptions, "now">): string | undefined {
  const phase = wf.status?.phase ?? "";
  if (phase === "Failed" || phase === "Error") return undefined;
  if (phase === "Succeeded") {
    return options.restartSuccessful && options.nodeFieldSelector
      ? undefined
      : "To retry a succeeded workflow, set the options restartSuccessful and nodeFieldSelector";
  }
  return `Cannot retry a workflow in phase ${phase}`;
}

/**
 * The workflow `argo retry` continues: failed execution nodes (and, with `restartSuccessful`, the nodes the
 * selector matches) are deleted with their descendants; their ancestors up to the root are reset to Running
 * (step/task groups, boundaries, failed Retry nodes); every other node is kept as it was. The workflow is
 * Running again, without message and `finishedAt`; the workflow exit handler's nodes are deleted so it runs
 * again. Throws `WorkflowRetryError` when Argo refuses the retry.
 */
export function formulateRetryWorkflow(wf: Workflow, options: RetryWorkflowOptions): Workflow {
  const refusal = retryRefusal(wf, options);
  if (refusal) throw new WorkflowRetryError(refusal);
  const name = wf.metadata.name ?? "";
  const onExitName = `${name}.onExit`;
  const oldNodes = wf.status?.nodes ?? {};
  const next = newRetryWorkflow(wf, options);
  const nodes: Record<string, NodeStatus> = {};
  next.status!.nodes = nodes;

  const restart = new Set<string>();
  if (options.restartSuccessful && options.nodeFieldSelector) {
    for (const n of Object.values(oldNodes))
      if (matchesSelector(n, options.nodeFieldSelector)) restart.add(n.id);
  }
  for (const [id, node] of Object.entries(oldNodes)) {
    if (!failedOrError(node) || !isExecutionType(node.type)) continue;
    // A failed attempt whose Retry node later succeeded is not a failure of the workflow.
    const judged = node.nodeFlag?.retried ? (retryParentOf(oldNodes, id) ?? node) : node;
    if (!hasSucceededDescendant(oldNodes, judged, restart)) restart.add(id);
  }

  const dag = buildDag(wf);
  const sorted = sortTopologically(dag, name);
  const toReset = new Set<string>();
  const toDelete = new Set<string>();
  // Breadth-first order: a node deleted with an ancestor is never reset on its own path.
  for (const d of sorted) {
    if (!restart.has(d.node.id) || toDelete.has(d.node.id)) continue;
    const path = resetPath(sorted, d.node.id);
    for (const id of path.reset) toReset.add(id);
    for (const id of path.delete) toDelete.add(id);
  }
  // New parameter values: groups being reset are expanded again (Argo #15802).
  if (options.parameters && options.parameters.length > 0) {
    for (const id of toReset) {
      const n = oldNodes[id];
      if (toDelete.has(id) || !n || (n.type !== "TaskGroup" && n.type !== "StepGroup")) continue;
      const d = dag.get(id);
      if (d) for (const c of descendantsOf(d)) toDelete.add(c);
    }
  }

  for (const id of toReset) {
    const n = oldNodes[id];
    if (n && !toDelete.has(id)) nodes[id] = resetNode(structuredClone(n), options.now);
  }
  for (const [id, n] of Object.entries(oldNodes)) {
    if (nodes[id] || toDelete.has(id) || n.name.startsWith(onExitName)) continue;
    nodes[id] = structuredClone(n);
  }
  for (const [id, n] of Object.entries(nodes)) {
    const old = oldNodes[id]!;
    n.children = (old.children ?? []).filter((c) => !toDelete.has(c));
    n.outboundNodes = (old.outboundNodes ?? []).filter((c) => !toDelete.has(c));
    if (n.children.length === 0) delete n.children;
    if (n.outboundNodes.length === 0) delete n.outboundNodes;
  }
  return next;
}

/**
 * The workflow `argo resubmit` creates: same spec and arguments (with overrides), user labels and
 * annotations, label `workflows.argoproj.io/resubmitted-from-workflow`. With `memoized` (only for a Failed
 * or Error workflow) the old nodes are carried over under the new name: succeeded pods become Skipped nodes
 * that keep their outputs (`original pod: <id>`), everything else is Pending and runs again.
 */
export function formulateResubmitWorkflow(wf: Workflow, options: ResubmitWorkflowOptions): Workflow {
  const oldName = wf.metadata.name ?? "";
  if (options.memoized && wf.status?.phase !== "Failed" && wf.status?.phase !== "Error")
    throw new WorkflowRetryError("workflow must be Failed/Error to resubmit in memoized mode");
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(wf.metadata.labels ?? {})) {
    if (CREATOR_LABELS.includes(k) || k === LABEL_PHASE || k === LABEL_COMPLETED || k === LABEL_ARCHIVING)
      continue;
    labels[k] = v;
  }
  labels[LABEL_RESUBMITTED_FROM] = oldName;
  const spec = structuredClone(wf.spec);
  if (spec.activeDeadlineSeconds === 0) delete spec.activeDeadlineSeconds;
  delete spec.shutdown;
  overrideParameters(spec, options.parameters);
  const next: Workflow = {
    apiVersion: wf.apiVersion,
    kind: wf.kind,
    metadata: {
      name: options.name,
      generateName: wf.metadata.generateName || `${oldName}-`,
      ...(wf.metadata.namespace ? { namespace: wf.metadata.namespace } : {}),
      labels,
      annotations: { ...wf.metadata.annotations },
    },
    spec,
  };
  if (!options.memoized) return next;

  const oldNodes = wf.status?.nodes ?? {};
  const rename = (n: string) => (n.startsWith(oldName) ? options.name + n.slice(oldName.length) : n);
  const convert = (id: string) => {
    const n = oldNodes[id];
    return nodeId(options.name, rename(n?.name ?? ""));
  };
  const nodes: Record<string, NodeStatus> = {};
  for (const node of Object.values(oldNodes)) {
    if (node.name.startsWith(`${oldName}.onExit`)) continue;
    const n = structuredClone(node);
    n.name = rename(node.name);
    n.id = nodeId(options.name, n.name);
    if (node.boundaryID) n.boundaryID = convert(node.boundaryID);
    if (failedOrError(n) && n.type === "Pod") {
      delete n.startedAt;
      delete n.finishedAt;
    } else {
      n.startedAt = options.now;
      n.finishedAt = options.now;
    }
    if (node.children) n.children = node.children.map(convert);
    if (node.outboundNodes) n.outboundNodes = node.outboundNodes.map(convert);
    if (!failedOrError(n) && n.type === "Pod") {
      n.phase = "Skipped";
      n.type = "Skipped";
      n.message = `original pod: ${node.id}`;
    } else if (n.type === "Skipped" && !hasSucceededDescendant(oldNodes, node, new Set())) {
      continue;
    } else {
      n.phase = "Pending";
      delete n.message;
    }
    nodes[n.id] = n;
  }
  next.status = {
    phase: "",
    nodes,
    ...(wf.status?.storedTemplates ? { storedTemplates: structuredClone(wf.status.storedTemplates) } : {}),
    conditions: [{ type: "Completed", status: "False" }],
  };
  return next;
}

/** `-p name=value` over `spec.arguments.parameters`: the given ones first, in order, then the others. */
function overrideParameters(spec: Workflow["spec"], overrides: RetryWorkflowOptions["parameters"]): void {
  if (!overrides || overrides.length === 0) return;
  const given = new Set(overrides.map(([n]) => n));
  const params: Parameter[] = overrides.map(([name, value]) => ({ name, value }));
  for (const p of spec.arguments?.parameters ?? []) if (!given.has(p.name)) params.push(p);
  spec.arguments = { ...spec.arguments, parameters: params };
}

function newRetryWorkflow(wf: Workflow, options: RetryWorkflowOptions): Workflow {
  const next = structuredClone(wf);
  const labels = { ...next.metadata.labels };
  delete labels[LABEL_COMPLETED];
  delete labels[LABEL_ARCHIVING];
  labels[LABEL_PHASE] = "Running";
  next.metadata.labels = labels;
  const status = (next.status ??= {});
  const conditions = (status.conditions ?? []).filter((c) => c.type !== "Completed");
  conditions.push({ type: "Completed", status: "False" });
  status.conditions = conditions;
  status.phase = "Running";
  status.nodes = {};
  delete status.message;
  delete status.finishedAt;
  status.startedAt = options.now;
  if (status.storedWorkflowTemplateSpec) delete status.storedWorkflowTemplateSpec.shutdown;
  delete next.spec.shutdown;
  if (next.spec.activeDeadlineSeconds === 0) delete next.spec.activeDeadlineSeconds;
  overrideParameters(next.spec, options.parameters);
  return next;
}

function resetNode(node: NodeStatus, now: string): NodeStatus {
  // Supplied values must be given again, or `argo node set` could not set them on the new run.
  if (node.type === "Suspend" && node.outputs?.parameters) {
    node.outputs.parameters = node.outputs.parameters.map((p) => ({
      name: p.name,
      valueFrom: { supplied: {} },
    }));
  }
  // A Skipped node stays Skipped, or the workflow would wait for it forever.
  if (node.phase !== "Skipped") node.phase = "Running";
  delete node.message;
  node.startedAt = now;
  delete node.finishedAt;
  return node;
}

function retryParentOf(nodes: Record<string, NodeStatus>, childId: string): NodeStatus | undefined {
  return Object.values(nodes).find((n) => n.type === "Retry" && (n.children ?? []).includes(childId));
}

function hasSucceededDescendant(
  nodes: Record<string, NodeStatus>,
  node: NodeStatus,
  restarted: ReadonlySet<string>,
): boolean {
  for (const c of node.children ?? []) {
    const child = nodes[c];
    if (!child) continue;
    if ((!restarted.has(c) && child.phase === "Succeeded") || hasSucceededDescendant(nodes, child, restarted))
      return true;
  }
  return false;
}

interface DagNode {
  node: NodeStatus;
  parent: DagNode | undefined;
  children: DagNode[];
}

function buildDag(wf: Workflow): Map<string, DagNode> {
  const name = wf.metadata.name ?? "";
  const nodes = wf.status?.nodes ?? {};
  const dag = new Map<string, DagNode>();
  const parentOf = new Map<string, string>();
  // A task depending on several others is the child of each; one parent is kept, the same one every time.
  for (const id of Object.keys(nodes).sort()) {
    dag.set(id, { node: nodes[id]!, parent: undefined, children: [] });
    for (const c of nodes[id]!.children ?? []) parentOf.set(c, id);
  }
  for (const [id, d] of dag) {
    const parent = parentOf.get(id);
    if (parent === undefined && d.node.name !== name && !d.node.name.startsWith(`${name}.onExit`))
      throw new WorkflowRetryError(`couldn't find parent node for ${id}`);
    d.parent = parent === undefined ? undefined : dag.get(parent);
    for (const c of d.node.children ?? []) {
      const child = dag.get(c);
      if (!child) throw new WorkflowRetryError(`couldn't obtain child ${c}`);
      d.children.push(child);
    }
  }
  return dag;
}

/** Breadth-first from the root node; the exit handler's nodes are not reached. */
function sortTopologically(dag: Map<string, DagNode>, rootName: string): DagNode[] {
  if (dag.size === 0) return [];
  const root = [...dag.values()].find((d) => d.node.name === rootName);
  if (!root) throw new WorkflowRetryError("couldn't find root node");
  const out: DagNode[] = [];
  const seen = new Set([root.node.id]);
  const queue = [root];
  for (let d = queue.shift(); d; d = queue.shift()) {
    out.push(d);
    for (const c of d.children) {
      if (seen.has(c.node.id)) continue;
      seen.add(c.node.id);
      queue.push(c);
    }
  }
  return out;
}

function descendantsOf(d: DagNode): Set<string> {
  const out = new Set<string>();
  const queue = [...d.children];
  for (let c = queue.shift(); c; c = queue.shift()) {
    out.add(c.node.id);
    queue.push(...c.children);
  }
  return out;
}

/** Walks up from `from` (itself included) to the first node `match` accepts, resets it and returns it. */
function resetUntil(from: DagNode, match: (d: DagNode) => boolean, reset: (id: string) => void): DagNode {
  for (let curr: DagNode | undefined = from; curr; curr = curr.parent) {
    if (match(curr)) {
      reset(curr.node.id);
      return curr;
    }
  }
  throw new WorkflowRetryError("was seeking node but ran out of nodes to explore");
}

/** Resets the enclosing groups and boundaries of `from` up to the root; returns where the walk goes on. */
function resetBoundaries(from: DagNode, reset: (id: string) => void): DagNode | undefined {
  let curr = from;
  for (;;) {
    if (curr.parent?.node.type === "Retry") {
      reset(curr.parent.node.id);
      curr = curr.parent;
    }
    if (curr.parent?.node.type === "StepGroup" || curr.parent?.node.type === "TaskGroup")
      reset(curr.parent.node.id);
    const boundary = curr.node.boundaryID;
    if (!boundary) return curr.parent;
    curr = resetUntil(curr, (d) => d.node.id === boundary, reset);
  }
}

/** What restarting one node means: it and its descendants go, its ancestors are reset. */
function resetPath(sorted: DagNode[], startId: string): { reset: Set<string>; delete: Set<string> } {
  const start = sorted.find((d) => d.node.id === startId);
  if (!start) throw new WorkflowRetryError(`was unable to find ${startId}`);
  const toDelete = descendantsOf(start);
  toDelete.add(startId);
  const toReset = new Set<string>();
  if (!start.parent) return { reset: toReset, delete: toDelete };
  const reset = (id: string) => toReset.add(id);
  let curr: DagNode | undefined = start;
  while (curr) {
    if (isGroupType(curr.node.type)) {
      reset(curr.node.id);
      curr = resetBoundaries(curr, reset);
      continue;
    }
    if (curr.node.type === "Retry" && failedOrError(curr.node)) reset(curr.node.id);
    else if (curr.node.type === "Container") {
      const pod = resetUntil(curr, (d) => d.node.type === "Pod", reset);
      toDelete.add(pod.node.id);
      for (const id of descendantsOf(pod)) toDelete.add(id);
      curr = pod;
      continue;
    }
    curr = curr.parent;
  }
  return { reset: toReset, delete: toDelete };
}
