import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Deadlines } from "./deadlines.ts";

describe("Deadlines", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("expires each entry once, at its deadline, in deadline order, on one timer", () => {
    const deadlines = new Deadlines();
    const expired: string[] = [];
    const now = Date.now();
    for (const [name, after] of [
      ["c", 300],
      ["a", 100],
      ["d", 300],
      ["b", 200],
    ] as const)
      deadlines.add(now + after, () => expired.push(name));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["a"]);
    vi.advanceTimersByTime(200);
    expect(expired.slice(0, 2)).toEqual(["a", "b"]);
    expect(expired.slice(2).sort()).toEqual(["c", "d"]);
    expect(vi.getTimerCount()).toBe(0);
    expect(deadlines.size).toBe(0);
  });

  it("never expires a cancelled entry; with none live left, no timer stays armed", () => {
    const deadlines = new Deadlines();
    const expire = vi.fn();
    const now = Date.now();
    const cancelFirst = deadlines.add(now + 100, expire);
    const cancelSecond = deadlines.add(now + 50_000, expire);
    cancelFirst();
    cancelFirst(); // twice is harmless
    expect(vi.getTimerCount()).toBe(1);
    cancelSecond();
    expect(vi.getTimerCount()).toBe(0);
    expect(deadlines.size).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(expire).not.toHaveBeenCalled();
  });

  it("rearms for an earlier deadline added later, and past a cancelled first entry", () => {
    const deadlines = new Deadlines();
    const expired: string[] = [];
    const now = Date.now();
    const cancelEarly = deadlines.add(now + 100, () => expired.push("early"));
    deadlines.add(now + 1000, () => expired.push("late"));
    deadlines.add(now + 10, () => expired.push("earlier"));
    cancelEarly();
    vi.advanceTimersByTime(10);
    expect(expired).toEqual(["earlier"]);
    vi.advanceTimersByTime(500);
    expect(expired).toEqual(["earlier"]);
    vi.advanceTimersByTime(490);
    expect(expired).toEqual(["earlier", "late"]);
  });

  it("an entry whose deadline has passed expires on the next turn of the timers", () => {
    const deadlines = new Deadlines();
    const expire = vi.fn();
    deadlines.add(Date.now() - 5, expire);
    expect(expire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(expire).toHaveBeenCalledOnce();
  });

  it("drops cancelled entries when most of a large heap is cancelled, keeping the live ones in order", () => {
    const deadlines = new Deadlines();
    const expired: number[] = [];
    const now = Date.now();
    const cancels = Array.from({ length: 1000 }, (_, index) =>
      deadlines.add(now + 1000 + ((index * 7919) % 1000), () => expired.push(index)),
    );
    cancels.forEach((cancel, index) => {
      if (index % 10 !== 0) cancel();
    });
    expect(deadlines.size).toBeLessThanOrEqual(200);
    vi.advanceTimersByTime(2000);
    const live = Array.from({ length: 100 }, (_, k) => k * 10);
    expect([...expired].sort((a, b) => a - b)).toEqual(live);
    const due = (index: number) => (index * 7919) % 1000;
    for (let k = 1; k < expired.length; k++)
      expect(due(expired[k] as number)).toBeGreaterThanOrEqual(due(expired[k - 1] as number));
  });
});
