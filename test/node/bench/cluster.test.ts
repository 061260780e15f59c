import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOpenRate } from "../../../bench/cluster/open-rate.ts";
import { upstashClient } from "../../../bench/cluster/proxy-load.ts";
import { measureDirectFanout, slotOwners } from "../../../bench/cluster/pubsub-fanout.ts";
import { measureRelayPublish } from "../../../bench/cluster/relay-publish.ts";
import { type ClusterBenchStack, startClusterBenchStack } from "../../../bench/cluster/stack.ts";

// The cluster benchmark's building blocks (bench/cluster.ts) on a real 3-primary cluster and a single
// redis-server, each behind its own proxy and relay on Node: tiny runs, exact counts, zero loss.
describe("bench cluster scenario building blocks", () => {
  let stack: ClusterBenchStack;
  beforeAll(async () => {
    stack = await startClusterBenchStack({ primaries: 3, replicasPerPrimary: 0, relay: true });
  }, 90_000);
  afterAll(() => stack?.stop());

  it("finds each channel's owning primary, over all three", async () => {
    const names = Array.from({ length: 30 }, (_, index) => `bench.owners.${index}`);
    const owners = await slotOwners(stack.cluster.primaries, names);
    expect(new Set(owners.map((owner) => owner.port)).size).toBe(3);
    expect(await slotOwners(stack.single.primaries, names)).toEqual(
      names.map(() => stack.single.primaries[0]),
    );
  });

  it.each(["classic", "sharded"] as const)(
    "fans %s pub/sub out on the cluster with every message delivered once, in order",
    async (mode) => {
      const plan = { channels: 6, subscribersPerChannel: 2, messages: 120, publishers: 4 };
      const result = await measureDirectFanout({
        nodes: stack.cluster.primaries,
        mode,
        plan,
        prefix: `bench.test.${mode}`,
      });
      expect(result.check).toEqual({ lost: 0, duplicates: 0, outOfOrder: 0 });
      expect(result.delivered).toBe(plan.messages * plan.subscribersPerChannel);
      expect(result.cpu.seconds).toHaveLength(3);
      expect(result.deliveriesPerSecond).toBeGreaterThan(0);
    },
    30_000,
  );

  it.each(["single", "cluster"] as const)(
    "publishes through the relay on the %s backend over many channels and every acknowledged message arrives",
    async (which) => {
      const result = await measureRelayPublish({
        backend: stack[which],
        authorization: stack.authorization,
        channels: 8,
        concurrency: 4,
        seconds: 0.5,
        prefix: `bench.test.relay.${which}`,
      });
      expect(result.acknowledged).toBeGreaterThan(0);
      expect(result.check).toEqual({ lost: 0, duplicates: 0, outOfOrder: 0 });
      expect(result.resets).toBe(0);
      expect(result.redisCpu.seconds).toHaveLength(which === "cluster" ? 3 : 1);
    },
    60_000,
  );

  it("runs commands through the cluster's proxy on a schedule, latency from the due time", async () => {
    const client = upstashClient(stack.cluster.proxyUrl, stack.proxyToken);
    const started = performance.now();
    const result = await runOpenRate({
      rate: 200,
      durationMs: 300,
      operation: (index) => client.set(`bench:open:${index}`, String(index)),
    });
    expect(result).toMatchObject({ scheduled: 60, completed: 60, failed: 0 });
    // 60 commands at 200/s take about 0.3 s whatever the machine: the schedule sets the pace.
    expect(performance.now() - started).toBeGreaterThan(290);
    expect(await client.get(`bench:open:59`)).toBe(59);
  }, 30_000);
});
