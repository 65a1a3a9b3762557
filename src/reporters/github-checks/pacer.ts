import type { Clock } from "../../../runtime/interfaces/clock.js";
import type { PrimaryRateLimit } from "./client.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface WritePacerOptions {
  clock: Clock;
  /** Content-creating requests allowed in any minute (GitHub's secondary limit: 80). */
  perMinute: number;
  /** Content-creating requests allowed in any hour (GitHub's secondary limit: 500). */
  perHour: number;
  /**
   * Tokens of each minute kept for urgent writes (the workflow's own check, failed steps): a burst of
   * ordinary writes never leaves the most important result waiting for the window to slide.
   */
  reserved: number;
}

/**
 * Paces check-run writes under GitHub's limits without bursting past them. Each window (a minute, an hour)
 * is a bucket of tokens, one per request the limit allows; a write spends one of each, and a token comes
 * back one window after it was spent. GitHub counts its secondary limits over any minute and any hour, so a
 * token returned earlier (a bucket refilled at a steady rate) would let a burst break them; this way the
 * limit is never crossed and, when tokens are left, a write never waits. On top of the buckets, the primary
 * limit GitHub reports in `x-ratelimit-*` headers and any `Retry-After` hold every write until they allow.
 */
export class WritePacer {
  /** When each token still out was spent, oldest first (the hour's window holds every minute's). */
  private readonly spent: number[] = [];
  private primary: PrimaryRateLimit | undefined;
  private blockedUntil = 0;

  constructor(private readonly options: WritePacerOptions) {}

  /**
   * How long (ms) a write must wait before it goes; 0 when it may go now. An urgent write may use the
   * reserved tokens; an ordinary one leaves them.
   */
  delay(urgent: boolean): number {
    const now = this.options.clock.now();
    this.forget(now);
    const perMinute = Math.max(
      1,
      urgent ? this.options.perMinute : this.options.perMinute - this.options.reserved,
    );
    let wait = Math.max(0, this.blockedUntil - now);
    wait = Math.max(wait, this.windowWait(now, MINUTE, perMinute));
    wait = Math.max(wait, this.windowWait(now, HOUR, this.options.perHour));
    if (this.primary && this.primary.remaining <= 0 && this.primary.resetAt > now)
      wait = Math.max(wait, this.primary.resetAt - now);
    return wait;
  }

  /** Spends a token of each window (call as the request goes out). */
  spend(): void {
    this.spent.push(this.options.clock.now());
    if (this.primary) this.primary = { ...this.primary, remaining: this.primary.remaining - 1 };
  }

  /** What GitHub's `x-ratelimit-*` headers said after a request. */
  observe(limit: PrimaryRateLimit | undefined): void {
    if (limit) this.primary = limit;
  }

  /** GitHub asked to wait (`Retry-After`, or a reset): no write goes before `ms` from now. */
  holdFor(ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.options.clock.now() + ms);
  }

  /** Tokens left in the current minute, for reports. */
  tokensThisMinute(): number {
    const now = this.options.clock.now();
    return this.options.perMinute - this.spent.filter((t) => t > now - MINUTE).length;
  }

  private windowWait(now: number, windowMs: number, limit: number): number {
    const inWindow = this.spent.filter((t) => t > now - windowMs);
    if (inWindow.length < limit) return 0;
    // The token spent `limit` writes ago must come back first.
    return inWindow[inWindow.length - limit]! + windowMs - now;
  }

  private forget(now: number): void {
    while (this.spent.length > 0 && this.spent[0]! <= now - HOUR) this.spent.shift();
  }
}
