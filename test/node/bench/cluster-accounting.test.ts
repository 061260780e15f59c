import { describe, expect, it } from "vitest";
import { cpuShares, projectedPerSecond } from "../../../bench/cluster/node-cpu.ts";
import { ChannelReceipts } from "../../../bench/cluster/receipts.ts";

// The cluster benchmark's bookkeeping: its zero-loss verdict and its projections are only as good as these.
describe("bench cluster accounting", () => {
  it("counts lost, duplicate and out-of-order receipts per channel and subscriber", async () => {
    const receipts = new ChannelReceipts();
    // Channel 0 (2 subscribers, 3 messages): subscriber 0 gets all, subscriber 1 misses 1 and gets 2 twice.
    for (const seq of [0, 1, 2]) receipts.record(0, 0, seq);
    for (const seq of [0, 2, 2]) receipts.record(0, 1, seq);
    // Channel 1 (3 messages): both get everything, subscriber 1 out of order.
    for (const seq of [0, 1, 2]) receipts.record(1, 0, seq);
    for (const seq of [1, 0, 2]) receipts.record(1, 1, seq);
    expect(receipts.total).toBe(12);
    expect(receipts.check([3, 3], 2)).toEqual({ lost: 1, duplicates: 1, outOfOrder: 1 });
    expect(new ChannelReceipts().check([3], 1)).toEqual({ lost: 3, duplicates: 0, outOfOrder: 0 });
    expect(await receipts.waitForTotal(12, 10)).toBe(true);
    expect(await receipts.waitForTotal(13, 10)).toBe(false);
  });

  it("projects from the busiest node: shards × per-shard throughput when even, less when not", () => {
    const even = { seconds: [1, 1, 1], total: 3, busiest: 1 };
    expect(projectedPerSecond(30_000, even)).toBe(30_000);
    expect(cpuShares(even)).toBe("33/33/33%");
    const skewed = { seconds: [2, 0.5, 0.5], total: 3, busiest: 2 };
    expect(projectedPerSecond(30_000, skewed)).toBe(15_000);
    expect(cpuShares(skewed)).toBe("67/17/17%");
    expect(projectedPerSecond(1, { seconds: [0], total: 0, busiest: 0 })).toBeNaN();
  });
});
