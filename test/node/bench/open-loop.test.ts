import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FloorProcess, startFloorProcess } from "../../../bench/relay/floor-process.ts";
import { runOpenLoop } from "../../../bench/relay/open-loop.ts";
import { type FanoutTarget, floorTarget } from "../../../bench/relay/targets.ts";

// The relay benchmark's open-loop runner against the real Node fan-out floor (bench/floors/node.ts).
describe("bench open loop on the Node fan-out floor", () => {
  let floor: FloorProcess;
  beforeAll(async () => {
    floor = await startFloorProcess("node");
  }, 30_000);
  afterAll(() => floor?.stop());

  it("delivers every scheduled message to every subscriber once, in order, and counts from the due time", async () => {
    const plan = { subscribers: 5, rate: 100, messages: 30, warmup: 2 };
    const started = performance.now();
    const result = await runOpenLoop(plan, {
      label: "floor on Node",
      target: floorTarget(floor.url),
      channel: "unused",
      processes: () => ({ floor: [floor.pid] }),
    });
    expect(result.check).toEqual({ lost: 0, duplicates: 0, outOfOrder: 0 });
    expect(result.latencies).toHaveLength(plan.subscribers * plan.messages);
    expect(result.deliveries).toBe(plan.subscribers * plan.messages);
    // 30 messages at 100/s take about 0.3 s whatever the machine: the schedule, not the subscribers, sets the pace.
    expect(performance.now() - started).toBeGreaterThan(290);
    expect(result.errors).toEqual([]);
  }, 30_000);

  it("counts a publish that falls behind its schedule in the latency (no coordinated omission)", async () => {
    const slowFloor: FanoutTarget = {
      ...floorTarget(floor.url),
      async publish(channel, seq) {
        // Every measured publish takes 50 ms: at 100 msg/s the publisher falls 40 ms further behind each time.
        if (seq >= 1) await new Promise((done) => setTimeout(done, 50));
        await floorTarget(floor.url).publish(channel, seq);
      },
    };
    const result = await runOpenLoop(
      { subscribers: 2, rate: 100, messages: 10, warmup: 1 },
      { label: "slow", target: slowFloor, channel: "unused", processes: () => ({}) },
    );
    expect(result.check).toEqual({ lost: 0, duplicates: 0, outOfOrder: 0 });
    // The 10th message was due at 90 ms but sent after ≥ 9 × 50 ms: its latency includes the ≥ 360 ms it waited.
    expect(Math.max(...result.latencies)).toBeGreaterThan(360);
    expect(Math.max(...result.publishLag)).toBeGreaterThan(360);
  }, 30_000);
});
