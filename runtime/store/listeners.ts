import type { StoreEvent } from "../interfaces/store.js";
import type { Workflow } from "../spec/types.js";

/** What watchers were last told about one workflow. */
export interface SeenVersion {
  rv: number;
  uid: string;
}

/**
 * The `watch` listeners of one store and what they were last told per workflow, so that a version announced
 * once (by this store's own write, then again by a folder scan or a notification) is not announced twice.
 */
export class WatchListeners<S extends SeenVersion = SeenVersion> {
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  /** By workflow key (a file path, or namespace and name). */
  readonly emitted = new Map<string, S>();

  get size(): number {
    return this.listeners.size;
  }

  /**
   * Adds a listener; `start` runs for the first one, `stop` once the last one is gone (when `stillNeeded`
   * does not say otherwise). Returns the unsubscribe function.
   */
  subscribe(
    listener: (e: StoreEvent) => void,
    hooks: { closed: boolean; start(): void; stop(): void; stillNeeded?(): boolean },
  ): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1 && !hooks.closed) hooks.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && !hooks.stillNeeded?.()) hooks.stop();
    };
  }

  clear(): void {
    this.listeners.clear();
  }

  emit(event: StoreEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // A listener's failure must not break the store or the other listeners.
      }
    }
  }

  /** Tells listeners about a version of a workflow unless they have seen it or a newer one already. */
  offer(key: string, seen: S, workflow: () => Workflow): void {
    const last = this.emitted.get(key);
    if (last && last.uid === seen.uid && last.rv >= seen.rv) return;
    this.emitted.set(key, seen);
    this.emit({ type: "put", workflow: workflow() });
  }
}
