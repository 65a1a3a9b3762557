import { closedError } from "./common.js";

/**
 * What the parts of one store share about its life: whether it was closed, and the writes `close` must wait
 * for. Each backend's context extends it, so every part refuses work after `close` in the same way.
 */
export class StoreLifecycle {
  closed = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  assertOpen(): void {
    if (this.closed) throw closedError();
  }

  /** Registers a write that `settle` (and so `close`) waits for. */
  track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Resolves once every tracked write has settled, including writes tracked meanwhile. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}

/** Runs `start`, turning what it throws into a rejection: a write's checks fail the way the write does. */
export function rejectOnThrow<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start();
  } catch (e) {
    return Promise.reject(e);
  }
}
