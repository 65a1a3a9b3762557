import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../../runtime/testing/fake-clock.js";
import { WritePacer } from "../../../../src/reporters/github-checks/pacer.js";

function pacer(perMinute = 5, perHour = 12, reserved = 1) {
  const clock = new FakeClock({ start: Date.UTC(2026, 0, 1) });
  return { clock, pacer: new WritePacer({ clock, perMinute, perHour, reserved }) };
}

describe("WritePacer", () => {
  it("lets a burst through while tokens are left, then waits for the oldest token to come back", () => {
    const { clock, pacer: p } = pacer();
    for (let i = 0; i < 4; i++) {
      expect(p.delay(false)).toBe(0);
      p.spend();
      clock.advance(1000);
    }
    // The last token of the minute is kept for urgent writes.
    expect(p.delay(false)).toBe(56_000);
    expect(p.delay(true)).toBe(0);
    p.spend();
    expect(p.delay(true)).toBe(56_000);
    clock.advance(56_000);
    expect(p.delay(true)).toBe(0);
    expect(p.tokensThisMinute()).toBe(1);
  });

  it("keeps the hour's limit over any hour", () => {
    const { clock, pacer: p } = pacer(100, 12, 0);
    for (let i = 0; i < 12; i++) {
      p.spend();
      clock.advance(60_000);
    }
    expect(p.delay(false)).toBe(60_000 * 60 - 12 * 60_000);
  });

  it("holds every write for Retry-After and for an exhausted primary quota", () => {
    const { clock, pacer: p } = pacer();
    p.holdFor(30_000);
    expect(p.delay(true)).toBe(30_000);
    clock.advance(30_000);
    p.observe({ limit: 1000, remaining: 1, resetAt: clock.now() + 90_000 });
    expect(p.delay(false)).toBe(0);
    p.spend();
    expect(p.delay(false)).toBe(90_000);
    p.observe({ limit: 1000, remaining: 999, resetAt: clock.now() + 3_600_000 });
    expect(p.delay(false)).toBe(0);
  });
});
