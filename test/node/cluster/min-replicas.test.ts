import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeRelay } from "../../../src/entry/node.ts";
import { keySlot } from "../../../src/protocol/key-slot.ts";
import type { RedisCluster } from "../../helpers/redis-cluster.ts";
import { within } from "../../helpers/until.ts";
import { token, unique } from "../client/fixture.ts";
import { type Ack, type PublishLog, verdict } from "../faults/ledger.ts";
import { type Subscriber, startSubscriber } from "../faults/subscriber.ts";
import { type RelayOnCluster, startRelayOnCluster } from "./relay-on-cluster.ts";

/**
 * The guard against losing acknowledged publishes to asynchronous replication (docs/data-model.md, "What failover
 * can lose"): primaries run with `min-replicas-to-write 1` and `min-replicas-max-lag 1`. With the replica of one
 * channel's primary frozen (SIGSTOP), a publish to that channel answers 503 `redis_unavailable` and writes
 * nothing (no log entry, no epoch change, no Idempotency-Key), a channel on another shard keeps publishing, and once
 * the replica resumes (SIGCONT) the refused message goes through under its same key; SSE subscribers see every
 * acknowledged message once, in order, with no reset.
 */
const MAX_LAG_S = 1;
const SUBSCRIBERS = 3;

let stack: RelayOnCluster | undefined;
let cluster: RedisCluster;
let relay: NodeRelay;
let frozenPid: number | undefined;
const plainClients: Redis[] = [];
const subscribers: Subscriber[] = [];

/** A plain (not cluster-aware) client of one node, closed in afterAll. */
function plain(port: number): Redis {
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 1 });
  plainClients.push(client);
  return client;
}

/** Ports of the primaries and, for each, of its replica (from `ROLE` on the primary). */
async function shards(): Promise<Map<number, number>> {
  const replicaOf = new Map<number, number>();
  for (const node of cluster.nodes) {
    const role = (await plain(node.port).call("ROLE")) as [string, number, [string, string, string][]];
    if (role[0] === "master") replicaOf.set(node.port, Number(role[2][0]?.[1]));
  }
  return replicaOf;
}

/** The port of the primary owning `slot`, from `CLUSTER SLOTS` on the seed node. */
async function ownerOf(slot: number): Promise<number> {
  const slots = (await plain(cluster.nodes[0]?.port as number).call("CLUSTER", "SLOTS")) as [
    number,
    number,
    [string, number],
  ][];
  const range = slots.find(([from, to]) => slot >= from && slot <= to);
  if (!range) throw new Error(`slot ${slot} has no owner`);
  return range[2][1];
}

async function goodReplicas(primaryPort: number): Promise<number> {
  const info = await plain(primaryPort).info("replication");
  return Number(/min_slaves_good_slaves:(\d+)/.exec(info)?.[1]);
}

beforeAll(async () => {
  stack = await startRelayOnCluster({ minReplicasToWrite: 1, minReplicasMaxLagS: MAX_LAG_S }, [
    "--command-timeout-ms",
    "2000",
  ]);
  ({ cluster, relay } = stack);
}, 60_000);
afterAll(async () => {
  // Resume the frozen replica first, whatever happened: a stopped process would only die by SIGKILL.
  if (frozenPid !== undefined) {
    try {
      process.kill(frozenPid, "SIGCONT");
    } catch {}
  }
  for (const subscriber of subscribers) subscriber.close();
  for (const client of plainClients) client.disconnect();
  await stack?.stop();
});

describe("min-replicas-to-write on a Redis Cluster", () => {
  it("a primary without a replica in reach refuses the publish (503, nothing written), other shards publish, and it resumes with the replica", async () => {
    const replicaOf = await shards();
    expect(replicaOf.size).toBe(3);
    for (const [primary, replica] of replicaOf) {
      expect(replica, `replica of ${primary}`).toBeGreaterThan(0);
      expect(await goodReplicas(primary), `good replicas of ${primary}`).toBe(1);
    }
    // The proxy's subscriber connection lives on the seed node (a primary), so freezing a replica leaves it be.
    let guarded = "";
    let other = "";
    let guardedPrimary = 0;
    for (let i = 0; !guarded || !other; i++) {
      const name = unique(`minrepl${i}`);
      const owner = await ownerOf(keySlot(name));
      if (!guarded) [guarded, guardedPrimary] = [name, owner];
      else if (owner !== guardedPrimary) other = name;
    }
    const replicaPort = replicaOf.get(guardedPrimary) as number;
    const replica = cluster.nodes.find((node) => node.port === replicaPort);
    if (!replica) throw new Error(`no node on port ${replicaPort}`);

    const admin = await token("admin");
    const urlOf = (channel: string) => `${relay.url}/v1/channels/${channel}`;
    const log: PublishLog = { acks: [], attempted: new Set(), ambiguous: new Set() };
    const publish = async (channel: string, seq: number) => {
      if (channel === guarded) log.attempted.add(seq);
      const response = await fetch(`${urlOf(channel)}/messages`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${admin}`,
          "content-type": "application/json",
          "idempotency-key": `minrepl-${seq}`,
        },
        body: JSON.stringify({ seq }),
      });
      const body = (await response.json()) as { id?: string; code?: string; detail?: string };
      if (channel === guarded && (response.status === 201 || response.status === 200))
        log.acks.push({ seq, id: body.id as string, ackedAt: Date.now() } satisfies Ack);
      return { status: response.status, body, retryAfter: response.headers.get("retry-after") };
    };
    const history = async (channel: string) => {
      const response = await fetch(`${urlOf(channel)}/messages?limit=100`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { messages: { id: string; data: { seq: number } }[] }).messages;
    };

    for (let i = 0; i < SUBSCRIBERS; i++)
      subscribers.push(startSubscriber(`${urlOf(guarded)}/events`, admin));
    expect(
      await within(() => subscribers.every((s) => s.connects.includes(200)), 15_000),
      "every subscriber connected",
    ).toBe(true);
    expect((await publish(guarded, 1)).status).toBe(201);
    expect((await publish(guarded, 2)).status).toBe(201);

    const primary = plain(guardedPrimary);
    const logKey = `relay:{${guarded}}:log`;
    const epochBefore = await primary.get(`relay:{${guarded}}:epoch`);
    expect(await primary.xlen(logKey)).toBe(2);

    process.kill(replica.pid, "SIGSTOP");
    frozenPid = replica.pid;
    const frozenAt = Date.now();
    expect(await within(async () => (await goodReplicas(guardedPrimary)) === 0, 10_000), "lag noticed").toBe(
      true,
    );
    const refusingAfterMs = Date.now() - frozenAt;

    const refused = await publish(guarded, 3);
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.body.code).toBe("redis_unavailable");
    expect(refused.body.detail).toMatch(/NOREPLICAS/);
    expect(refused.retryAfter).not.toBeNull();
    // Nothing written: not through the relay, not on the primary itself.
    expect((await history(guarded)).map((m) => m.data.seq)).toEqual([1, 2]);
    expect(await primary.xlen(logKey)).toBe(2);
    expect(await primary.get(`relay:{${guarded}}:epoch`)).toBe(epochBefore);
    expect(await primary.exists(`relay:{${guarded}}:idem:minrepl-3`)).toBe(0);

    // Another shard's primary has its replica: its channel publishes.
    const elsewhere = await publish(other, 100);
    expect(elsewhere.status, JSON.stringify(elsewhere.body)).toBe(201);

    process.kill(replica.pid, "SIGCONT");
    frozenPid = undefined;
    const resumedAt = Date.now();
    expect(await within(async () => (await goodReplicas(guardedPrimary)) === 1, 10_000), "replica back").toBe(
      true,
    );
    const acceptingAfterMs = Date.now() - resumedAt;
    // The refused message goes through under its same Idempotency-Key as a new publish (201, not a 200 replay).
    expect((await publish(guarded, 3)).status).toBe(201);
    expect((await publish(guarded, 4)).status).toBe(201);
    expect((await history(guarded)).map((m) => m.data.seq)).toEqual([1, 2, 3, 4]);
    expect(await primary.xlen(logKey)).toBe(4);
    expect(await primary.get(`relay:{${guarded}}:epoch`)).toBe(epochBefore);

    const acked = log.acks.map((ack) => ack.id);
    expect(
      await within(
        () =>
          subscribers.every((s) =>
            acked.every((id) => s.deliveries.some((d) => d.kind === "message" && d.id === id)),
          ),
        15_000,
      ),
      "every subscriber got every acknowledged message",
    ).toBe(true);
    for (const [i, subscriber] of subscribers.entries()) {
      expect(verdict(log, subscriber.deliveries), `subscriber ${i}`).toEqual([]);
      expect(
        subscriber.deliveries.map((d) => (d.kind === "message" ? d.seq : `loss ${d.detail}`)),
        `subscriber ${i}: every message once, in order, no reset`,
      ).toEqual([1, 2, 3, 4]);
    }
    console.log(
      `[min-replicas] primary refused writes ${refusingAfterMs} ms after its replica froze ` +
        `(min-replicas-max-lag ${MAX_LAG_S} s); accepted again ${acceptingAfterMs} ms after it resumed`,
    );
  }, 90_000);
});
