import type { Clock, TimerHandle } from "../interfaces/clock.js";

interface PendingTimer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

export interface FakeClockOptions {
  /** Start time, ms since the epoch. Default 2024-01-01T00:00:00Z. */
  start?: number;
  /**
   * When true, the clock jumps to the next timer as soon as the process is otherwise idle (no activity for a
   * few macrotask turns), so code waiting on backoff, deadlines or suspend durations runs without real sleeps.
   */
  autoAdvance?: boolean;
}

/** How many quiet macrotask turns count as "idle" for auto-advance. */
const IDLE_TURNS = 8;

/**
 * A manual clock for tests. `advance(ms)` fires due timers in time order; in auto-advance mode the clock
 * fires the next timer whenever nothing else is going on.
 */
export class FakeClock implements Clock {
  private current: number;
  private readonly timers = new Map<number, PendingTimer>();
  private nextId = 1;
  private seq = 0;
  private auto: boolean;
  private activity = 0;
  private idleLoopRunning = false;

  constructor(options: FakeClockOptions = {}) {
    this.current = options.start ?? Date.UTC(2024, 0, 1);
    this.auto = options.autoAdvance ?? false;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.current + Math.max(0, ms), seq: this.seq++, fn });
    this.activity++;
    this.kickIdleLoop();
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle.id);
    this.activity++;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const h = this.setTimer(ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      const onAbort = () => {
        this.clearTimer(h);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Number of timers not yet fired. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way (in time order). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next.at > target) break;
      this.fire(next);
    }
    this.current = target;
  }

  /** Jumps to the next timer and fires it (and any due at the same instant). Returns false if none. */
  advanceToNextTimer(): boolean {
    const next = this.earliest();
    if (!next) return false;
    this.advance(next.at - this.current);
    return true;
  }

  setAutoAdvance(on: boolean): void {
    this.auto = on;
    this.kickIdleLoop();
  }

  private fire(t: PendingTimer): void {
    this.timers.delete(t.id);
    this.current = Math.max(this.current, t.at);
    this.activity++;
    t.fn();
  }

  private earliest(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers.values()) {
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }

  private kickIdleLoop(): void {
    if (!this.auto || this.idleLoopRunning || this.timers.size === 0) return;
    this.idleLoopRunning = true;
    let seen = this.activity;
    let quiet = 0;
    const turn = () => {
      if (!this.auto || this.timers.size === 0) {
        this.idleLoopRunning = false;
        return;
      }
      if (this.activity !== seen) {
        seen = this.activity;
        quiet = 0;
      } else if (++quiet >= IDLE_TURNS) {
        quiet = 0;
        this.advanceToNextTimer();
        seen = this.activity;
      }
      setImmediate(turn);
    };
    setImmediate(turn);
  }
}
