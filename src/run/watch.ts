import { SkiffError } from "../../runtime/errors/index.js";
import type { Store } from "../../runtime/interfaces/store.js";
import type { Workflow } from "../../runtime/spec/types.js";
import { isOwned, readRun } from "./control.js";

export const isCompleted = (wf: Workflow): boolean =>
  wf.status?.phase === "Succeeded" || wf.status?.phase === "Failed" || wf.status?.phase === "Error";

export interface FollowOptions {
  /** Called with each new stored version (first with the current one). */
  onUpdate?: (wf: Workflow) => void;
  /** How often the store is read besides its watch events (events of other processes may be merged). */
  pollMs?: number;
}

/**
 * Follows a workflow another process runs until it completes, and returns its final state. Rejects with
 * `SKF-RUN-003` when it is (or gets) deleted, `SKF-RUN-004` when nobody runs it any more before it completed.
 */
export function followWorkflow(
  store: Store,
  namespace: string,
  name: string,
  options: FollowOptions = {},
): Promise<Workflow> {
  return new Promise<Workflow>((resolve, reject) => {
    let settled = false;
    let lastVersion: string | undefined;
    const seen = (wf: Workflow) => {
      const version = wf.metadata.resourceVersion ?? JSON.stringify(wf.status);
      if (version === lastVersion) return;
      lastVersion = version;
      options.onUpdate?.(wf);
    };
    const finish = (e: Error | undefined, wf?: Workflow) => {
      if (settled) return;
      if (wf) seen(wf);
      settled = true;
      unwatch();
      clearInterval(timer);
      if (e) reject(e);
      else resolve(wf!);
    };
    const check = async () => {
      try {
        const wf = await readRun(store, namespace, name);
        if (settled) return;
        if (isCompleted(wf)) return finish(undefined, wf);
        seen(wf);
        if (!(await isOwned(store, namespace, name))) {
          // The owner may have completed it between the two reads.
          const again = await readRun(store, namespace, name);
          if (isCompleted(again)) return finish(undefined, again);
          finish(
            new SkiffError(
              "SKF-RUN-004",
              `workflow ${name} is not running (phase ${again.status?.phase || "unknown"}, its process is gone); continue it with skiff resume ${name}`,
            ),
          );
        }
      } catch (e) {
        finish(e as Error);
      }
    };
    const unwatch = store.watch((e) => {
      const m = e.workflow.metadata;
      if (settled || m.namespace !== namespace || m.name !== name) return;
      if (e.type === "delete")
        finish(new SkiffError("SKF-RUN-003", `workflow ${namespace}/${name} was deleted`));
      else if (isCompleted(e.workflow)) finish(undefined, e.workflow);
      else seen(e.workflow);
    });
    const timer = setInterval(() => void check(), options.pollMs ?? 500);
    void check();
  });
}
