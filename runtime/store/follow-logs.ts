import type { LogLine } from "../interfaces/executor.js";
import type { LogQuery } from "../interfaces/store.js";
import type { Workflow } from "../spec/types.js";
import { isCompletedPhase, pause } from "./common.js";

/** What one read of a workflow's log returns. */
export interface LogBatch<C> {
  /** The lines read, in the order they were appended, already filtered by the query. */
  lines: LogLine[];
  /** Where the next read starts. */
  cursor: C;
  /** More lines are waiting already: read again before waiting for a change. */
  more?: boolean;
}

/** How `followLogs` reaches one backend's log of one workflow. */
export interface LogSource<C> {
  /** The cursor of the first read (the start of the log). */
  start: C;
  read(cursor: C): Promise<LogBatch<C>>;
  /** The workflow the log belongs to: following ends once it completed or is gone. */
  getWorkflow(): Promise<Workflow | undefined>;
  isClosed(): boolean;
  /** Resolves when new lines may have arrived (or after a poll interval, or when `signal` aborts). */
  waitForChange(signal: AbortSignal | undefined): Promise<void>;
}

/**
 * The one `readLogs` loop of every backend: read what is there, and with `follow` keep reading as lines
 * arrive until the workflow has completed (or does not exist), the store closes or `signal` aborts. Writers
 * append a step's logs before they put the completed workflow, so one more read after seeing it completed
 * gets every line.
 */
export async function* followLogs<C>(source: LogSource<C>, query: LogQuery): AsyncGenerator<LogLine> {
  let cursor = source.start;
  let finalPass = false;
  for (;;) {
    const batch = await source.read(cursor);
    cursor = batch.cursor;
    yield* batch.lines;
    if (batch.more) continue;
    if (!query.follow || finalPass || source.isClosed() || query.signal?.aborted) return;
    const wf = await source.getWorkflow().catch(() => undefined);
    if (!wf || isCompletedPhase(wf.status?.phase)) {
      // One more pass for lines appended before the workflow completed but after this read.
      finalPass = true;
      continue;
    }
    await source.waitForChange(query.signal);
  }
}

/**
 * The log followers waiting for new lines. A backend wakes them when it (or, where it can tell, another
 * process) appends lines and when it closes; they also look again every poll interval.
 */
export class LogWakeups {
  private readonly waiting = new Set<() => void>();

  get size(): number {
    return this.waiting.size;
  }

  /** Resolves at the next `wakeAll`, after `pollIntervalMs`, or when `signal` aborts. */
  wait(pollIntervalMs: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.waiting.delete(wake);
        resolve();
      };
      this.waiting.add(wake);
      void pause(pollIntervalMs, signal).then(wake);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.waiting]) wake();
  }
}
