import { evaluateExpression } from "../expr/index.js";
import type { TimerHandle } from "../interfaces/clock.js";
import type { StepHandle, StepRequest, StepResult } from "../interfaces/executor.js";
import type { ResolvedTemplate } from "../spec/compiled.js";
import { parseDuration, podName as podNameOf } from "../spec/index.js";
import type { K8sObject, NodePhase, NodeStatus, Outputs, Parameter, Template } from "../spec/types.js";
import { CONTROLLER_CODES } from "./codes.js";
import {
  type Boundary,
  DEADLINE_MESSAGE,
  type Invocation,
  iso,
  messageOf,
  NodeOutcome,
  type OperatorContext,
  POD_DEADLINE_MESSAGE,
  POD_DELETED_MESSAGE,
  type ProcessedInputs,
  type RunningPod,
} from "./context.js";
import { isFulfilled } from "./graph.js";

/*
 * Leaf nodes (Pod, HTTP, container sets): the StepRequest handed to the executor, start or re-attach,
 * deadlines, results, logs, daemons and killing a running step. The controller never runs a process
 * itself; everything goes through `options.executor`.
 */

const C = CONTROLLER_CODES;

/**
 * The volumes a step's mounts may name, as Argo assembles the pod: `spec.volumes`, one claim per
 * `spec.volumeClaimTemplates` entry (named `<workflow>-<name>` like the PVC Argo creates), then the
 * template's own volumes, which win on a name clash.
 */
export function podVolumes(op: OperatorContext, template: Template): K8sObject[] {
  const byName = new Map<string, K8sObject>();
  const add = (v: unknown) => {
    if (v && typeof v === "object" && typeof (v as K8sObject).name === "string")
      byName.set((v as K8sObject).name as string, v as K8sObject);
  };
  for (const v of op.wf.spec.volumes ?? []) add(v);
  for (const c of op.wf.spec.volumeClaimTemplates ?? []) {
    const name = (c.metadata as { name?: unknown } | undefined)?.name;
    if (typeof name === "string") add({ name, persistentVolumeClaim: { claimName: `${op.name}-${name}` } });
  }
  for (const v of template.volumes ?? []) add(v);
  return [...byName.values()];
}

/** Runs a pod-like node. Returns true when the node goes on in the background (a ready daemon). */
export async function executeLeaf(
  op: OperatorContext,
  node: NodeStatus,
  template: Template,
  rt: ResolvedTemplate,
  inputs: ProcessedInputs,
  inv: Invocation,
  releaseSlots: () => void,
  releaseLocks: () => void,
): Promise<boolean> {
  if (op.shutdown && !(inv.onExit && op.shutdown === "Stop")) {
    throw new NodeOutcome("Failed", `workflow shutdown with strategy: ${op.shutdown}`);
  }
  if (op.deadlineExceeded && !inv.onExit) throw new NodeOutcome("Failed", DEADLINE_MESSAGE);
  if (template.resource && !op.options.executor.capabilities.resource) {
    throw new NodeOutcome(
      "Error",
      `${C["SKF-CTRL-002"]}: resource templates need Kubernetes; executor '${op.options.executor.name}' cannot run them`,
    );
  }
  if (template.plugin) {
    throw new NodeOutcome("Error", `${C["SKF-CTRL-007"]}: plugin templates are not supported`);
  }
  const now = op.options.clock.now();
  const deadlines: { at: number; message: string }[] = [];
  if (op.deadline !== undefined && !inv.onExit)
    deadlines.push({ at: op.deadline, message: DEADLINE_MESSAGE });
  if (template.activeDeadlineSeconds !== undefined) {
    const secs = Number(template.activeDeadlineSeconds);
    if (Number.isFinite(secs) && secs > 0)
      deadlines.push({ at: now + secs * 1000, message: POD_DEADLINE_MESSAGE });
  }
  if (template.timeout) {
    const startedAt = Date.parse(node.startedAt ?? "") || now;
    deadlines.push({ at: startedAt + parseDuration(template.timeout), message: POD_DEADLINE_MESSAGE });
  }
  deadlines.sort((a, b) => a.at - b.at);
  const first = deadlines[0];

  if (template.containerSet) {
    for (const c of template.containerSet.containers) {
      op.createNode({
        name: `${node.name}.${c.name}`,
        type: "Container",
        phase: "Pending",
        boundaryID: node.id,
        scope: inv.scope,
      });
    }
    for (const c of template.containerSet.containers) {
      const child = op.idOf(`${node.name}.${c.name}`);
      if (!c.dependencies?.length) op.addChild(node, child);
      for (const d of c.dependencies ?? []) {
        const dep = op.nodeByName(`${node.name}.${d}`);
        if (dep) op.addChild(dep, child);
      }
    }
  }

  const pod = podNameOf(op.name, node.name, rt.template.name ?? "");
  const request: StepRequest = {
    workflowName: op.name,
    namespace: op.namespace,
    workflowUid: op.wf.metadata.uid ?? "",
    nodeId: node.id,
    nodeName: node.name,
    podName: pod,
    templateName: rt.template.name ?? "",
    template,
    parameters: inputs.parameters,
    inputArtifacts: inputs.artifacts,
    artifactKeyPrefix: `${op.name}/${pod}`,
    captureResult: inv.captureResult || !!template.data || !!template.http,
    env: { ...(op.options.env ?? {}) },
    daemon: template.daemon === true,
    evaluate: (expression, env) => evaluateExpression(expression, env),
  };
  if (op.options.artifactRepository) request.artifactRepository = op.options.artifactRepository;
  if (op.options.workspace !== undefined) request.workspace = op.options.workspace;
  request.volumes = podVolumes(op, template);
  request.workflowSpec = op.wf.spec;
  request.configMaps = op.compiled.configMaps;
  request.secrets = op.compiled.secrets;
  // A pod gets the workflow's hostAliases and then the template's, as Argo builds the pod spec.
  const wfAliases = op.wf.spec.hostAliases;
  if (Array.isArray(wfAliases) && wfAliases.length > 0) {
    request.template = {
      ...template,
      hostAliases: [...(wfAliases as K8sObject[]), ...(template.hostAliases ?? [])],
    };
  }
  if (first) request.deadline = first.at;
  // A step a resumed controller finds Running is past Pending: only its running deadlines apply.
  const pendingAt = op.recovering.get(node.id) === "Running" ? undefined : op.pendingDeadline(node, template);
  if (pendingAt !== undefined && pendingAt <= now) throw new NodeOutcome("Failed", "timeout");
  if (first && first.at <= now) throw new NodeOutcome("Failed", first.message);

  let handle: StepHandle;
  try {
    // The node stays Pending until the executor has started the step (an image pull, a busy engine).
    handle = await op.untilPendingDeadline(startOrAttach(op, request), pendingAt, (late) => {
      const executor = op.options.executor;
      void executor
        .kill(late, "timeout")
        .then(() => executor.wait(late))
        .catch(() => undefined);
    });
  } catch (e) {
    if (e instanceof NodeOutcome) throw e;
    throw new NodeOutcome("Error", messageOf(e));
  }
  const running: RunningPod = { node, handle, onExit: inv.onExit, daemon: request.daemon };
  op.running.add(running);
  void forwardLogs(op, handle);
  let timer: TimerHandle | undefined;
  if (first) {
    timer = op.options.clock.setTimer(first.at - op.options.clock.now(), () =>
      killPod(op, running, "Failed", first.message),
    );
  }
  if (op.shutdown && !(inv.onExit && op.shutdown === "Stop")) {
    killPod(op, running, "Failed", `workflow shutdown with strategy:  ${op.shutdown}`);
  } else if (op.deadlineExceeded && !inv.onExit) {
    killPod(op, running, "Failed", DEADLINE_MESSAGE);
  }
  if (!running.killed) op.markPhase(node, "Running");
  for (const c of template.containerSet?.containers ?? []) {
    const cn = op.nodeByName(`${node.name}.${c.name}`);
    if (cn && !running.killed) op.markPhase(cn, "Running");
  }

  const complete = async (): Promise<void> => {
    let result: StepResult;
    try {
      result = await op.options.executor.wait(handle);
    } catch (e) {
      result = {
        phase: "Error",
        message: messageOf(e),
        exitCode: null,
        outputs: {},
        startedAt: node.startedAt ?? iso(now),
        finishedAt: iso(op.options.clock.now()),
      };
    }
    if (timer) op.options.clock.clearTimer(timer);
    op.running.delete(running);
    applyResult(op, node, template, result, running);
  };

  if (request.daemon && !running.killed) {
    let ready = false;
    const readyPromise = op.options.executor.ready(handle).then(
      (r) => {
        ready = true;
        return r;
      },
      () => undefined,
    );
    const completion = complete();
    const first = await Promise.race([readyPromise, completion.then(() => undefined)]);
    if (ready && first && !isFulfilled(node)) {
      node.podIP = first.ip;
      node.daemoned = true;
      inv.boundary?.daemons.add(running);
      op.daemonsAll.add(running);
      op.markPhase(node, "Running");
      op.touch();
      void completion
        .finally(() => {
          inv.boundary?.daemons.delete(running);
          op.daemonsAll.delete(running);
          releaseSlots();
          releaseLocks();
          op.exportOutputs(node.outputs, op.globals);
        })
        .catch((e: unknown) => op.markPhase(node, "Error", messageOf(e)));
      return true;
    }
    await completion;
    return false;
  }
  await complete();
  return false;
}

/**
 * Starts the step, or on recovery follows the one an earlier controller started. A Running node whose
 * step is gone is a lost pod to Argo: Error `pod deleted`, then its retryStrategy decides.
 */
export async function startOrAttach(op: OperatorContext, request: StepRequest): Promise<StepHandle> {
  const persisted = op.recovering.get(request.nodeId);
  op.recovering.delete(request.nodeId);
  const executor = op.options.executor;
  if (persisted === undefined || !executor.attach) return executor.start(request);
  let handle: StepHandle | undefined;
  try {
    handle = await executor.attach(request);
  } catch (e) {
    throw new NodeOutcome("Error", `${C["SKF-CTRL-014"]}: ${messageOf(e)}`);
  }
  if (handle) return handle;
  if (persisted === "Running") throw new NodeOutcome("Error", POD_DELETED_MESSAGE);
  return executor.start(request);
}

export function applyResult(
  op: OperatorContext,
  node: NodeStatus,
  template: Template,
  result: StepResult,
  running: RunningPod,
): void {
  const outputs: Outputs = {};
  const parameters = withLiteralOutputs(template, result.outputs.parameters ?? []);
  if (parameters.length) outputs.parameters = parameters;
  if (result.outputs.artifacts?.length) outputs.artifacts = result.outputs.artifacts;
  if (result.outputs.result !== undefined) outputs.result = result.outputs.result;
  const exitCode =
    result.outputs.exitCode ?? (result.exitCode === null ? undefined : String(result.exitCode));
  if (exitCode !== undefined) outputs.exitCode = exitCode;
  if (Object.keys(outputs).length) node.outputs = outputs;
  if (result.hostNodeName) node.hostNodeName = result.hostNodeName;
  for (const c of result.containers ?? []) {
    const cn = op.nodeByName(`${node.name}.${c.name}`);
    if (!cn) continue;
    if (c.exitCode !== null) cn.outputs = { exitCode: String(c.exitCode) };
    const phase: NodePhase = running.killed ? running.killed.phase : c.phase;
    op.markPhase(cn, phase, c.message ?? "");
  }
  for (const c of template.containerSet?.containers ?? []) {
    const cn = op.nodeByName(`${node.name}.${c.name}`);
    if (cn && !isFulfilled(cn))
      op.markPhase(cn, running.killed?.phase ?? (result.phase === "Succeeded" ? "Succeeded" : "Failed"));
  }
  if (running.killed) {
    op.markPhase(node, running.killed.phase, running.killed.message);
    return;
  }
  if (running.daemon && node.daemoned && result.phase === "Succeeded") {
    op.markPhase(node, "Failed", result.message ?? "daemon exited");
    return;
  }
  op.markPhase(node, result.phase, result.message ?? "");
}

/**
 * The output parameters a pod reports, in the template's order. Argo's executor only reads the ones with
 * `valueFrom.path`; an output declared with a literal `value` (already substituted with the template) is
 * reported as it stands, so it is exported like any other (Argo's SaveParameters leaves it in place).
 */
export function withLiteralOutputs(template: Template, reported: readonly Parameter[]): Parameter[] {
  const declared = template.outputs?.parameters ?? [];
  if (!declared.some((p) => p.value !== undefined && !p.valueFrom)) return [...reported];
  const byName = new Map(reported.map((p) => [p.name, p]));
  const out: Parameter[] = [];
  for (const d of declared) {
    const r = byName.get(d.name);
    if (r) {
      out.push(r);
      byName.delete(d.name);
    } else if (d.value !== undefined && !d.valueFrom) out.push({ ...d });
  }
  return [...out, ...byName.values()];
}

export function killPod(op: OperatorContext, pod: RunningPod, phase: NodePhase, message: string): void {
  if (pod.killed) return;
  pod.killed = pod.daemon && pod.node.daemoned ? { phase: "Succeeded", message: "" } : { phase, message };
  op.options.executor.kill(pod.handle, message).catch(() => undefined);
}

export async function forwardLogs(op: OperatorContext, handle: StepHandle): Promise<void> {
  if (!op.options.onEvent) return;
  try {
    for await (const line of op.options.executor.logs(handle)) {
      op.emit({ type: "log", workflowName: op.name, line });
    }
  } catch {
    // Logs are best effort.
  }
}

export async function killDaemons(op: OperatorContext, boundary: Boundary): Promise<void> {
  const list = [...boundary.daemons];
  if (!list.length) return;
  const waits = list.map(
    (d) =>
      new Promise<void>((resolve) => {
        if (isFulfilled(d.node) && !d.node.daemoned) return resolve();
        const off = op.onPhaseChange(d.node, () => {
          if (d.node.phase !== "Running") {
            off();
            resolve();
          }
        });
      }),
  );
  for (const d of list) killPod(op, d, "Succeeded", "");
  await Promise.all(waits);
}

export async function killAllDaemons(op: OperatorContext): Promise<void> {
  await killDaemons(op, { daemons: op.daemonsAll } as Boundary);
}
