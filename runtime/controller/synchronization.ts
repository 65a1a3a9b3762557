import { SkiffError } from "../errors/index.js";
import { substitute, substituteObject } from "../expr/index.js";
import type { TimerHandle } from "../interfaces/clock.js";
import { parseDuration } from "../spec/index.js";
import type { NodeStatus, Synchronization, Template } from "../spec/types.js";
import { CONTROLLER_CODES } from "./codes.js";
import { type Boundary, NodeOutcome, nodeTypeOfTemplate, type OperatorContext } from "./context.js";
import { Limiter, type LockRequest } from "./limits.js";

/*
 * Parallelism, failFast and synchronization: the slots of a steps/DAG boundary, mutex and semaphore
 * locks of a template, and the pending deadline (`timeout`, `pendingTimeout`) of a node still waiting.
 */

const C = CONTROLLER_CODES;

export function tripFailFast(op: OperatorContext, boundary: Boundary): void {
  if (boundary.tripped) return;
  boundary.tripped = true;
  boundary.limiter?.close();
}

export function lockRequests(
  op: OperatorContext,
  sync: Synchronization | undefined,
  vars: ReadonlyMap<string, string | null>,
): LockRequest[] {
  if (!sync) return [];
  const out: LockRequest[] = [];
  const mutexes = [...(sync.mutexes ?? []), ...(sync.mutex ? [sync.mutex] : [])];
  for (const m of mutexes) {
    const name = substitute(m.name ?? "", vars);
    out.push({ name: `${m.namespace ?? op.namespace}/Mutex/${name}`, limit: 1 });
  }
  const semaphores = [...(sync.semaphores ?? []), ...(sync.semaphore ? [sync.semaphore] : [])];
  for (const s of semaphores) {
    if (s.configMapKeyRef) {
      const ref = substituteObject(s.configMapKeyRef, vars);
      const raw = op.configMapValue(ref.name, ref.key);
      const limit = raw === undefined ? NaN : Number(raw.trim());
      if (!Number.isInteger(limit)) {
        throw new SkiffError(
          C["SKF-CTRL-012"],
          `failed to get semaphore limit: configmap ${ref.name} key ${ref.key} ${raw === undefined ? "not found" : "is not an integer"}`,
        );
      }
      out.push({ name: `${s.namespace ?? op.namespace}/ConfigMap/${ref.name}/${ref.key}`, limit });
    } else if (s.database) {
      out.push({ name: `${s.namespace ?? op.namespace}/Database/${s.database.key}`, limit: 1 });
    }
  }
  return out;
}

/**
 * When a leaf node that is still Pending fails with Argo's `timeout` (§4.5): its startedAt plus the
 * template's `timeout` (which counts pending time too) or `pendingTimeout`, whichever comes first.
 */
export function pendingDeadline(
  op: OperatorContext,
  node: NodeStatus,
  template: Template,
  vars?: ReadonlyMap<string, string | null>,
): number | undefined {
  const type = nodeTypeOfTemplate(template);
  if (type === "Steps" || type === "DAG" || type === "Suspend") return undefined;
  const startedAt = Date.parse(node.startedAt ?? "") || op.options.clock.now();
  let at: number | undefined;
  for (const raw of [template.timeout, template.pendingTimeout]) {
    if (!raw) continue;
    const ms = parseDuration(vars ? substitute(raw, vars) : raw);
    at = Math.min(at ?? Number.POSITIVE_INFINITY, startedAt + ms);
  }
  return at;
}

/**
 * Waits for what a Pending node waits on, failing it with `timeout` once `pendingAt` passes first;
 * `abandon` gives back what arrives too late (a parallelism slot, a started step).
 */
export async function untilPendingDeadline<T>(
  op: OperatorContext,
  waiting: Promise<T>,
  pendingAt: number | undefined,
  abandon: (late: T) => void,
): Promise<T> {
  if (pendingAt === undefined) return waiting;
  const clock = op.options.clock;
  let timer: TimerHandle | undefined;
  let expired = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimer(Math.max(0, pendingAt - clock.now()), () => {
      expired = true;
      reject(new NodeOutcome("Failed", "timeout"));
    });
  });
  try {
    return await Promise.race([waiting, timeout]);
  } finally {
    if (timer) clock.clearTimer(timer);
    if (expired) void waiting.then(abandon, () => undefined);
  }
}

export function lockMessage(op: OperatorContext, lock: LockRequest): string {
  const st = op.sync.status(lock.name);
  return `Waiting for ${lock.name} lock. Lock status: ${st.free}/${st.limit || lock.limit}`;
}

export async function acquireNodeLocks(
  op: OperatorContext,
  node: NodeStatus,
  holder: string,
  locks: LockRequest[],
  pendingAt: number | undefined,
): Promise<void> {
  if (op.sync.tryAcquire(holder, locks)) return;
  const blocking = op.sync.blockingLock(holder, locks) ?? (locks[0] as LockRequest);
  node.synchronizationStatus = { waiting: blocking.name };
  op.markPhase(node, "Pending", lockMessage(op, blocking));
  const cancel = (e: Error) => op.sync.cancel(holder, e);
  op.waitingLocks.set(node.id, { node, cancel });
  // Argo's template `timeout` counts pending time too (and `pendingTimeout` only that): a node still
  // waiting when it passes fails.
  let timer: TimerHandle | undefined;
  if (pendingAt !== undefined) {
    timer = op.options.clock.setTimer(Math.max(0, pendingAt - op.options.clock.now()), () =>
      cancel(new NodeOutcome("Failed", "timeout")),
    );
  }
  try {
    await op.sync.acquire(holder, locks);
  } finally {
    if (timer) op.options.clock.clearTimer(timer);
    op.waitingLocks.delete(node.id);
    delete node.synchronizationStatus;
  }
  op.markPhase(node, node.phase, "");
}

export function newBoundary(op: OperatorContext, node: NodeStatus, template: Template): Boundary {
  return {
    node,
    template,
    limiter: template.parallelism && template.parallelism > 0 ? new Limiter(template.parallelism) : undefined,
    failFast: template.failFast === true,
    tripped: false,
    daemons: new Set(),
  };
}
