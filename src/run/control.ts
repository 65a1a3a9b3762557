import { randomBytes } from "node:crypto";
import { defineErrorCodes, SkiffError } from "../../runtime/errors/index.js";
import type { Store } from "../../runtime/interfaces/store.js";
import type { Workflow } from "../../runtime/spec/types.js";
import { COMMAND_LABEL, COMMAND_NAMESPACE, isCommandRecord, leaseAlive } from "./store.js";

export const CONTROL_CODES = defineErrorCodes({
  "SKF-RUN-003": {
    title: "Unknown workflow",
    hint: "Run `skiff list` to see the workflows this machine knows (names are those printed by `skiff run`).",
  },
  "SKF-RUN-004": {
    title: "Workflow is not running",
    hint: "Only a workflow whose `skiff run` is still going can be suspended or stopped; `skiff resume NAME` continues one whose process was killed.",
  },
});

/** A command another `skiff` process sends to a running workflow. */
export interface ControlCommand {
  action: "resume" | "suspend" | "stop" | "terminate" | "set";
  nodeFieldSelector?: string;
  outputParameters?: Record<string, string>;
}

const TARGET = "skiff.dev/target";
const COMMAND = "skiff.dev/command-body";

const completed = (phase: string | undefined) =>
  phase === "Succeeded" || phase === "Failed" || phase === "Error";

/** Reads a stored workflow; `SKF-RUN-003` when the store does not know it. */
export async function readRun(store: Store, namespace: string, name: string): Promise<Workflow> {
  const wf = namespace === COMMAND_NAMESPACE ? undefined : await store.get(namespace, name);
  if (!wf) throw new SkiffError("SKF-RUN-003", `workflow ${namespace}/${name} not found`);
  return wf;
}

/** Lists the stored workflows (command records left out). */
export async function listRuns(store: Store, namespace?: string): Promise<Workflow[]> {
  const all = await store.list(namespace ? { namespace } : {});
  return all.filter((w) => w.metadata.namespace !== COMMAND_NAMESPACE && !isCommandRecord(w));
}

/** Whether a live process owns (runs) the workflow. */
export async function isOwned(store: Store, namespace: string, name: string): Promise<boolean> {
  return leaseAlive(await store.getLease(namespace, name));
}

/**
 * Sends a command to a running workflow as a command record in the store, which the owning process
 * watches, applies and deletes. Fails with `SKF-RUN-004` when no live process owns the workflow.
 */
export async function sendCommand(
  store: Store,
  namespace: string,
  name: string,
  cmd: ControlCommand,
): Promise<void> {
  const wf = await readRun(store, namespace, name);
  const phase = wf.status?.phase;
  if (completed(phase) || !(await isOwned(store, namespace, name))) {
    throw new SkiffError("SKF-RUN-004", `workflow ${name} is not running (phase ${phase || "unknown"})`);
  }
  const id = `${Date.now().toString(36)}-${process.pid}-${randomBytes(3).toString("hex")}`;
  await store.put({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: {
      name: `${namespace}.${name}.${id}`,
      namespace: COMMAND_NAMESPACE,
      labels: { [COMMAND_LABEL]: cmd.action },
      annotations: { [TARGET]: `${namespace}/${name}`, [COMMAND]: JSON.stringify(cmd) },
    },
    spec: {},
  });
}

/**
 * Calls `onCommand` for every command record sent to one workflow (each once, in the order sent), deleting
 * it. Watches the store and lists it every second, as watch events of other processes may be merged.
 */
export function watchCommands(
  store: Store,
  namespace: string,
  name: string,
  onCommand: (c: ControlCommand) => void,
): () => void {
  const target = `${namespace}/${name}`;
  const seen = new Set<string>();
  let closed = false;
  const take = (w: Workflow) => {
    const id = w.metadata.name ?? "";
    if (closed || seen.has(id) || w.metadata.annotations?.[TARGET] !== target) return;
    seen.add(id);
    let cmd: ControlCommand;
    try {
      cmd = JSON.parse(w.metadata.annotations[COMMAND] ?? "") as ControlCommand;
    } catch {
      cmd = { action: "set" };
    }
    void store.delete(COMMAND_NAMESPACE, id).catch(() => undefined);
    onCommand(cmd);
  };
  const drain = async () => {
    try {
      const pending = await store.list({ namespace: COMMAND_NAMESPACE });
      pending.sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
      for (const w of pending) take(w);
    } catch {
      // the next poll tries again
    }
  };
  const unwatch = store.watch((e) => {
    if (e.type === "put" && e.workflow.metadata.namespace === COMMAND_NAMESPACE) take(e.workflow);
  });
  const poll = setInterval(() => void drain(), 1000);
  poll.unref?.();
  void drain();
  return () => {
    closed = true;
    unwatch();
    clearInterval(poll);
  };
}
