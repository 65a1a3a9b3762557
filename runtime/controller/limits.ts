/** Thrown to waiters of a limiter that was closed (failFast, shutdown). */
export class LimiterClosed extends Error {
  constructor() {
    super("limiter closed");
  }
}

/** A FIFO counting semaphore: Argo's parallelism limits, as slots. */
export class Limiter {
  private used = 0;
  private readonly waiters: ({ resolve: () => void; reject: (e: Error) => void } | undefined)[] = [];
  private head = 0;
  private closed = false;

  constructor(readonly limit: number) {}

  get active(): number {
    return this.used;
  }

  /** Takes a slot if one is free right now (and nobody is queued). */
  tryAcquire(): boolean {
    if (this.closed) throw new LimiterClosed();
    if (this.used < this.limit && this.head >= this.waiters.length) {
      this.used++;
      return true;
    }
    return false;
  }

  acquire(): Promise<void> {
    if (this.closed) return Promise.reject(new LimiterClosed());
    if (this.used < this.limit && this.head >= this.waiters.length) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(): void {
    this.used--;
    const next = this.waiters[this.head];
    if (next) {
      this.waiters[this.head] = undefined;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.waiters.length) {
        this.waiters.splice(0, this.head);
        this.head = 0;
      }
    }
    if (next) {
      this.used++;
      next.resolve();
    }
  }

  /** Fails every waiter and every later acquire. */
  close(): void {
    this.closed = true;
    const waiting = this.waiters.splice(0);
    this.head = 0;
    for (const w of waiting) w?.reject(new LimiterClosed());
  }
}

/** One lock a node or workflow needs: a mutex is a semaphore of size 1. */
export interface LockRequest {
  /** Argo's lock name, e.g. `default/Mutex/my-mutex` or `default/ConfigMap/my-config/workflow`. */
  name: string;
  limit: number;
}

interface LockState {
  limit: number;
  holders: Set<string>;
}

interface PendingAcquire {
  holder: string;
  locks: LockRequest[];
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Mutexes and semaphores shared by every workflow of one controller process (Argo's `workflow/sync`).
 * Several locks are taken all-or-nothing; waiters are served first come, first served, and a waiter at the
 * head of a lock's queue is never overtaken on that lock.
 */
export class SyncManager {
  private readonly locks = new Map<string, LockState>();
  private readonly pending: PendingAcquire[] = [];

  /** Free slots and limit of a lock, for Argo's wait message. */
  status(name: string): { free: number; limit: number } {
    const s = this.locks.get(name);
    if (!s) return { free: 0, limit: 0 };
    return { free: Math.max(0, s.limit - s.holders.size), limit: s.limit };
  }

  /** True when `holder` could take all locks right now. */
  tryAcquire(holder: string, locks: LockRequest[]): boolean {
    for (const l of locks) this.state(l);
    const blocked = new Set<string>();
    for (const p of this.pending) for (const l of p.locks) blocked.add(l.name);
    if (!locks.every((l) => this.canTake(l.name, holder) && !blocked.has(l.name))) return false;
    for (const l of locks) this.state(l).holders.add(holder);
    return true;
  }

  /** Waits for all locks. Reject by calling `cancel(holder)`. */
  acquire(holder: string, locks: LockRequest[]): Promise<void> {
    if (this.tryAcquire(holder, locks)) return Promise.resolve();
    return new Promise((resolve, reject) => this.pending.push({ holder, locks, resolve, reject }));
  }

  /** The first lock `holder` would wait for, if it asked now. */
  blockingLock(holder: string, locks: LockRequest[]): LockRequest | undefined {
    for (const l of locks) this.state(l);
    return locks.find((l) => !this.canTake(l.name, holder)) ?? locks[0];
  }

  cancel(holder: string, error: Error): void {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i];
      if (p?.holder === holder) {
        this.pending.splice(i, 1);
        p.reject(error);
      }
    }
    this.grant();
  }

  release(holder: string, locks: LockRequest[]): void {
    for (const l of locks) this.locks.get(l.name)?.holders.delete(holder);
    this.grant();
  }

  private state(l: LockRequest): LockState {
    let s = this.locks.get(l.name);
    if (!s) {
      s = { limit: l.limit, holders: new Set() };
      this.locks.set(l.name, s);
    }
    s.limit = l.limit;
    return s;
  }

  private canTake(name: string, holder: string): boolean {
    const s = this.locks.get(name);
    if (!s) return true;
    return s.holders.has(holder) || s.holders.size < s.limit;
  }

  private grant(): void {
    const blocked = new Set<string>();
    for (let i = 0; i < this.pending.length;) {
      const p = this.pending[i];
      if (!p) break;
      const ok = p.locks.every((l) => !blocked.has(l.name) && this.canTake(l.name, p.holder));
      if (ok) {
        for (const l of p.locks) this.state(l).holders.add(p.holder);
        this.pending.splice(i, 1);
        p.resolve();
        continue;
      }
      for (const l of p.locks) blocked.add(l.name);
      i++;
    }
  }
}

/** Locks shared by every workflow started in this process without an explicit `SyncManager`. */
export const defaultSyncManager = new SyncManager();
