import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeRelay } from "../../../src/entry/node.ts";
import { keySlot } from "../../../src/protocol/key-slot.ts";
import type { RedisCluster } from "../../helpers/redis-cluster.ts";
import { pause, within } from "../../helpers/until.ts";
import { token, unique } from "../client/fixture.ts";
import { type Delivery, missingAcks, verdict } from "../faults/ledger.ts";
import { startLongPoller } from "../faults/long-poller.ts";
import { startPublisher } from "../faults/publisher.ts";
import { startSubscriber } from "../faults/subscriber.ts";
import { type RelayOnCluster, startRelayOnCluster } from "./relay-on-cluster.ts";

/**
 * Failover under load (docs/data-model.md, "The relay on a Redis Cluster"): 20 SSE subscribers and 5 long-poll
 * loops on one channel, a publisher at about 50 msg/s with Idempotency-Keys and retries, and the primary that owns
 * the channel's slot is killed (SIGKILL). Its replica takes over (cluster-node-timeout 1 s here); publishing
 * resumes, and every acknowledged message reaches every subscriber exactly once, in order, unless a loss was
 * signalled (`event: reset`, `gap: true`): the fault suite's rules (test/node/faults/ledger.ts). The proxy's own
 * subscriber connection lives on its seed node, which is not the one killed (see docs/proxy.md, "Redis Cluster").
 */
const NODE_TIMEOUT_MS = 1000;
const SSE_SUBSCRIBERS = 20;
const LONG_POLLERS = 5;

let stack: RelayOnCluster | undefined;
let cluster: RedisCluster;
let relay: NodeRelay;

const cli = (port: number, ...args: string[]) =>
  execFileSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" }).trim();

/** The port of the primary owning `slot`, asked of a node that is alive. */
function ownerOf(slot: number, askPort: number): number | undefined {
  const lines = cli(askPort, "CLUSTER", "NODES").split("\n");
  for (const line of lines) {
    const [, address, flags, , , , , state, ...ranges] = line.split(" ");
    if (!flags?.includes("master") || flags.includes("fail") || state !== "connected") continue;
    for (const range of ranges) {
      const [from, to = from] = range.split("-").map(Number);
      if (from !== undefined && to !== undefined && slot >= from && slot <= to)
        return Number(address?.split(":")[1]?.split("@")[0]);
    }
  }
  return undefined;
}

beforeAll(async () => {
  stack = await startRelayOnCluster({ nodeTimeoutMs: NODE_TIMEOUT_MS }, ["--command-timeout-ms", "1000"]);
  ({ cluster, relay } = stack);
}, 60_000);
afterAll(() => stack?.stop());

describe("Redis Cluster failover", () => {
  it("kill the channel's primary mid-stream: its replica takes over, publishing resumes, nothing acknowledged is lost silently", async () => {
    const seedPort = cluster.nodes[0]?.port as number;
    let channel = "";
    let owner: number | undefined;
    for (let i = 0; !channel; i++) {
      const name = unique(`failover${i}`);
      const port = ownerOf(keySlot(name), seedPort);
      if (port !== undefined && port !== seedPort) [channel, owner] = [name, port];
    }
    const victim = cluster.nodes.find((node) => node.port === owner);
    if (!victim) throw new Error(`no node on port ${owner}`);

    const admin = await token("admin");
    const channelUrl = `${relay.url}/v1/channels/${channel}`;
    const subscribers = Array.from({ length: SSE_SUBSCRIBERS }, () =>
      startSubscriber(`${channelUrl}/events`, admin),
    );
    const pollers = Array.from({ length: LONG_POLLERS }, () => startLongPoller(channelUrl, admin));
    try {
      expect(
        await within(
          () =>
            subscribers.every((s) => s.connects.includes(200)) &&
            pollers.every((p) => p.answers.includes(200)),
          15_000,
        ),
        "every subscriber connected",
      ).toBe(true);
      const publisher = startPublisher({ url: `${channelUrl}/messages`, token: admin });
      await pause(3_000);
      const killedAt = Date.now();
      process.kill(victim.pid, "SIGKILL");
      const promoted = await within(() => {
        const now = ownerOf(keySlot(channel), seedPort);
        return now !== undefined && now !== owner;
      }, 20_000);
      expect(promoted, "a replica took the slot over").toBe(true);
      const failoverMs = Date.now() - killedAt;
      // Keep publishing on the promoted replica for a while.
      await pause(3_000);
      const log = await publisher.stop();

      const records: Array<{ name: string; deliveries: Delivery[] }> = [
        ...subscribers.map((s, i) => ({ name: `sse ${i}`, deliveries: s.deliveries })),
        ...pollers.map((p, i) => ({ name: `long-poll ${i}`, deliveries: p.deliveries })),
      ];
      const caughtUp = await within(
        () => records.every((r) => missingAcks(log, r.deliveries).length === 0),
        15_000,
      );
      const firstAckAfter = log.acks.find((ack) => ack.ackedAt > killedAt);
      console.log(
        `[failover] replica promoted ${failoverMs} ms after the kill; first acknowledged publish after it at ` +
          `${firstAckAfter ? firstAckAfter.ackedAt - killedAt : "never"} ms; ${log.acks.length} acknowledged of ` +
          `${log.attempted.size}; loss signals in ${records.filter((r) => r.deliveries.some((d) => d.kind === "loss")).length}/${records.length}`,
      );
      const problems = records.flatMap((r) => verdict(log, r.deliveries).map((p) => `${r.name}: ${p}`));
      expect(problems.slice(0, 40), `${problems.length} problems`).toEqual([]);
      expect(caughtUp, "every subscriber caught up").toBe(true);
      expect(firstAckAfter, "publishing resumed after the failover").toBeDefined();
      // Within the failover time plus the publisher's 200 ms retry and a margin for a loaded machine.
      expect((firstAckAfter?.ackedAt ?? Number.POSITIVE_INFINITY) - killedAt).toBeLessThan(
        failoverMs + 3_000,
      );
      expect(
        log.acks.some((ack) => ack.ackedAt < killedAt),
        "the kill hit live traffic",
      ).toBe(true);
    } finally {
      for (const subscriber of subscribers) subscriber.close();
      await Promise.all(pollers.map((poller) => poller.close()));
    }
  }, 90_000);
});
