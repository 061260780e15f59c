import { Redis } from "@upstash/redis";
import { Redis as TcpRedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keySlot } from "../../../src/protocol/key-slot.ts";
import { createProxy, type Proxy as RestProxy } from "../../../src/proxy/index.ts";
import { type RedisCluster, startRedisCluster } from "../../helpers/redis-cluster.ts";
import { eventually } from "./proxy-fixtures.ts";

/**
 * docs/proxy.md, "Redis Cluster": redirections during resharding and failover. A writer keeps sending pipelines
 * through the proxy with the real @upstash/redis client while a slot moves between primaries, while a replica
 * takes over by CLUSTER FAILOVER, and while a primary is killed. Counters must come back exact and in order.
 */
let cluster: RedisCluster;
let proxy: RestProxy;
let redis: Redis;
let proxyUrl: string;
const nodes: TcpRedis[] = [];
const run = Date.now().toString(36);

interface NodeInfo {
  id: string;
  port: number;
  primary: boolean;
  slots: [number, number][];
  primaryId: string;
}

/**
 * The cluster as one answering node sees it, once that view is settled: every slot has an owner and every
 * primary owns slots. Right after a node dies or a failover, a node's view may briefly have slots without a
 * primary, or still list the primary just failed over as a primary (with no slots, until it announces itself
 * as a replica); a test must not pick keys or replicas from such a view.
 */
async function topology(): Promise<NodeInfo[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const view = await oneView();
    if (isSettled(view) || Date.now() > deadline) return view;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isSettled(view: NodeInfo[]): boolean {
  const primaries = view.filter((node) => node.primary);
  if (primaries.some((node) => node.slots.length === 0)) return false;
  const ranges = primaries.flatMap((node) => node.slots);
  ranges.sort((x, y) => x[0] - y[0]);
  let next = 0;
  for (const [from, to] of ranges) {
    if (from > next) return false;
    next = Math.max(next, to + 1);
  }
  return next === 16384;
}

async function oneView(): Promise<NodeInfo[]> {
  let text = "";
  // Any node that answers (a killed one fails at once: no offline queue, no retries).
  for (const node of nodes) {
    text = String(await node.call("CLUSTER", "NODES").catch(() => ""));
    if (text) break;
  }
  return text
    .trim()
    .split("\n")
    .map((line) => line.split(" "))
    .filter((fields) => !(fields[2] ?? "").includes("fail"))
    .map((fields) => ({
      id: fields[0] as string,
      port: Number((fields[1] as string).split(":")[1]?.split("@")[0]),
      primary: (fields[2] as string).includes("master"),
      primaryId: fields[3] as string,
      slots: fields
        .slice(8)
        .filter((range) => !range.startsWith("["))
        .map((range) => range.split("-").map(Number) as [number, number])
        .map(([from, to]) => [from, to ?? from] as [number, number]),
    }));
}

const ownerOf = (all: NodeInfo[], slot: number) =>
  all.find((node) => node.primary && node.slots.some(([from, to]) => slot >= from && slot <= to)) as NodeInfo;
const connectionTo = (port: number) => nodes.find((node) => node.options.port === port) as TcpRedis;

/**
 * Turns `replica` into its shard's primary by CLUSTER FAILOVER (FORCE when the primary may not answer), asking
 * again while it has not happened: a primary refuses to vote for a second failover of the same shard within
 * twice the node timeout, and the replica then drops the request instead of retrying it.
 */
async function promote(replica: NodeInfo, ...mode: ["FORCE"] | []) {
  const deadline = Date.now() + 25_000;
  for (;;) {
    await connectionTo(replica.port).call("CLUSTER", "FAILOVER", ...mode);
    const askedAt = Date.now();
    while (Date.now() - askedAt < 6_000) {
      // Owning slots, not only flagged master: a primary just failed over stays "master" with no slots in the
      // views of nodes that have not heard from it since, and this replica may be that node.
      const seen = (await topology()).find((node) => node.id === replica.id);
      if (seen?.primary && seen.slots.length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (Date.now() > deadline) throw new Error(`replica :${replica.port} did not become primary`);
  }
}

/** Pipelines [INCR a, GET a, INCR b, INCR c] (a, b share a slot; c lives elsewhere) until `done()`. */
async function writeWhile(done: () => boolean, a: string, b: string, c: string) {
  const failures: string[] = [];
  let expected = Number((await redis.get<number>(a)) ?? 0);
  let ok = 0;
  while (!done() || ok === 0) {
    try {
      const replies = await redis.pipeline().incr(a).get(a).incr(b).incr(c).exec();
      expected += 1;
      expect(replies).toEqual([expected, expected, expected, expected]);
      ok += 1;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message.startsWith("expected")) throw error;
      failures.push(message);
      const failedAt = Date.now();
      // The outcome of a failed pipeline is unknown: re-read where the counters stand and align them.
      for (;;) {
        try {
          const [va, vb, vc] = await Promise.all([a, b, c].map((key) => redis.get<number>(key)));
          const top = Math.max(Number(va ?? 0), Number(vb ?? 0), Number(vc ?? 0));
          await redis.set(a, top);
          await redis.set(b, top);
          await redis.set(c, top);
          expected = top;
          break;
        } catch (resync) {
          if (Date.now() - failedAt > 15_000) throw resync;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
  }
  return { ok, failures };
}

/** Two keys of one slot (a tag), and a third key on another primary. */
async function keysFor(tag: string, all?: NodeInfo[]): Promise<[string, string, string]> {
  all ??= await topology();
  const owner = ownerOf(all, keySlot(tag));
  for (let i = 0; ; i++) {
    const other = `${run}:other:${tag}:${i}`;
    if (ownerOf(all, keySlot(other)).id !== owner.id) return [`{${tag}}:a`, `{${tag}}:b`, other];
  }
}

/**
 * Moves `slot` from `source` to `target` as redis-cli's resharding does: IMPORTING on the target, MIGRATING on
 * the source, MIGRATE its keys, then SETSLOT NODE on every node that answers.
 */
async function moveSlot(slot: number, source: NodeInfo, target: NodeInfo) {
  const from = connectionTo(source.port);
  const to = connectionTo(target.port);
  await to.call("CLUSTER", "SETSLOT", slot, "IMPORTING", source.id);
  await from.call("CLUSTER", "SETSLOT", slot, "MIGRATING", target.id);
  for (;;) {
    const keys = (await from.call("CLUSTER", "GETKEYSINSLOT", slot, 100)) as string[];
    if (keys.length === 0) break;
    await from.call("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", ...keys);
  }
  for (const node of [to, from, ...nodes.filter((n) => n !== to && n !== from && n.status === "ready")])
    await node.call("CLUSTER", "SETSLOT", slot, "NODE", target.id).catch(() => {});
}

/** Opens /subscribe/<channel> through the proxy; `messages()` are its `data: message,…` lines so far. */
async function subscribe(channel: string) {
  const controller = new AbortController();
  const response = await fetch(`${proxyUrl}/subscribe/${channel}`, {
    method: "POST",
    body: "[]",
    signal: controller.signal,
    headers: { authorization: "Bearer topology", accept: "text/event-stream" },
  });
  let received = "";
  let ended = false;
  if (!response.body) throw new Error("no stream body");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value;
    }
    ended = true;
  })().catch(() => {});
  await eventually(() => expect(received).toContain(`subscribe,${channel},1`));
  return {
    messages: () => received.split("\n").filter((line) => line.startsWith("data: message")),
    ended: () => ended,
    close: () => controller.abort(),
  };
}

beforeAll(async () => {
  cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 1, nodeTimeoutMs: 1000 });
  for (const node of cluster.nodes)
    nodes.push(new TcpRedis({ port: node.port, enableOfflineQueue: false, maxRetriesPerRequest: 0 }));
  for (const node of nodes) node.on("error", () => {});
  await eventually(() => Promise.all(nodes.map((node) => node.ping())));
  proxy = createProxy({ log: () => {}, redisUrl: cluster.url, token: "topology" });
  const { url } = await proxy.listen({ host: "127.0.0.1", port: 0 });
  proxyUrl = url;
  redis = new Redis({ url, token: "topology", retry: false, enableTelemetry: false });
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  for (const node of nodes) node.disconnect();
  await cluster?.stop();
});

describe("proxy on a Redis Cluster changing topology", () => {
  it("follows ASK and MOVED while a slot migrates between primaries, every pipeline exact and in order", async () => {
    const tag = `${run}-reshard`;
    const [a, b, c] = await keysFor(tag);
    const slot = keySlot(tag);
    let moved = false;
    const writer = writeWhile(() => moved, a, b, c);
    const all = await topology();
    const source = ownerOf(all, slot);
    const target = all.find((node) => node.primary && node.id !== source.id) as NodeInfo;
    const from = connectionTo(source.port);
    const to = connectionTo(target.port);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await to.call("CLUSTER", "SETSLOT", slot, "IMPORTING", source.id);
    await from.call("CLUSTER", "SETSLOT", slot, "MIGRATING", target.id);
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (;;) {
      const keys = (await from.call("CLUSTER", "GETKEYSINSLOT", slot, 1)) as string[];
      if (keys.length === 0) break;
      // One key at a time, with writes in between: the writer meets ASK for the moved key, not the other.
      await from.call("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", ...keys);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const node of [to, from, ...nodes.filter((n) => n !== to && n !== from && n.status === "ready")])
      await node.call("CLUSTER", "SETSLOT", slot, "NODE", target.id).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    moved = true;
    const { ok, failures } = await writer;
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(5);
    expect(ownerOf(await topology(), slot).id).toBe(target.id);
    expect(await to.get(a)).toBe(String(ok));
  }, 30_000);

  it("/multi-exec follows MOVED when its slot moved behind the proxy's back", async () => {
    // Deterministic: a write makes the proxy's slot map name the owner; the slot then moves with no request
    // through the proxy (ioredis refreshes its map only on a redirection it sees itself), so the transaction
    // is queued on the old owner, gets MOVED, and must run on the new one (docs/proxy.md, "Redis Cluster").
    const tag = `${run}-multi`;
    const key = `{${tag}}:counter`;
    const slot = keySlot(tag);
    expect(await redis.set(key, 41)).toBe("OK");
    const all = await topology();
    const source = ownerOf(all, slot);
    const target = all.find((node) => node.primary && node.id !== source.id) as NodeInfo;
    await moveSlot(slot, source, target);
    expect(await connectionTo(source.port).call("CLUSTER", "COUNTKEYSINSLOT", slot)).toBe(0);
    expect(await connectionTo(target.port).get(key)).toBe("41");

    expect(await redis.multi().incr(key).get(key).exec()).toEqual([42, 42]);
    expect(await connectionTo(target.port).get(key)).toBe("42");
    // The MOVED also corrected the proxy's slot map: later transactions go straight to the new owner.
    const transactionsOn = async (port: number) =>
      Number(
        /cmdstat_multi:calls=(\d+)/.exec(String(await connectionTo(port).info("commandstats")))?.[1] ?? 0,
      );
    await eventually(async () => {
      const before = await transactionsOn(source.port);
      expect(await redis.multi().get(key).exec()).toEqual([42]);
      expect(await transactionsOn(source.port)).toBe(before);
    }, 5_000);
    expect(await redis.multi().incr(key).exec()).toEqual([43]);
    expect(await connectionTo(target.port).get(key)).toBe("43");
  }, 30_000);

  it("/multi-exec follows MOVED to a replica that CLUSTER FAILOVER promoted behind the proxy's back", async () => {
    // A shard other than the seed node's (later tests fail that one over), its slot map in the proxy current.
    const all = await topology();
    const seedId = all.find((node) => node.port === cluster.nodes[0]?.port)?.id;
    let tag = "";
    for (let i = 0; !tag; i++) {
      const owner = ownerOf(all, keySlot(`${run}-multi-failover-${i}`));
      if (owner.id !== seedId && owner.primaryId !== seedId) tag = `${run}-multi-failover-${i}`;
    }
    const key = `{${tag}}:counter`;
    expect(await redis.set(key, 7)).toBe("OK");
    const before = ownerOf(all, keySlot(tag));
    const replica = all.find((node) => !node.primary && node.primaryId === before.id) as NodeInfo;
    await promote(replica);
    // The replica has every write its primary acknowledged before CLUSTER FAILOVER (it waits to catch up).
    expect(await connectionTo(replica.port).get(key)).toBe("7");

    expect(await redis.multi().incr(key).get(key).exec()).toEqual([8, 8]);
    expect(await connectionTo(replica.port).get(key)).toBe("8");
  }, 45_000);

  it("follows MOVED through a CLUSTER FAILOVER on a replica, with no failed request", async () => {
    const tag = `${run}-failover`;
    const [a, b, c] = await keysFor(tag);
    const slot = keySlot(tag);
    const before = ownerOf(await topology(), slot);
    const replica = (await topology()).find(
      (node) => !node.primary && node.primaryId === before.id,
    ) as NodeInfo;
    let done = false;
    const writer = writeWhile(() => done, a, b, c);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await promote(replica);
    expect(ownerOf(await topology(), slot).id).toBe(replica.id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    done = true;
    const { ok, failures } = await writer;
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(5);
  }, 45_000);

  it("a /subscribe stream keeps receiving across a CLUSTER FAILOVER of the seed node's own shard", async () => {
    // The proxy's subscriber connection sits on the seed node; after the failover that node is a replica, and
    // classic pub/sub reaches replicas too, so the stream stays open and keeps delivering (docs/proxy.md).
    const channel = `${run}:sse`;
    const stream = await subscribe(channel);
    const data = stream.messages;
    await redis.publish(channel, "before");
    await eventually(() => expect(data()).toHaveLength(1));
    const seed = (await topology()).find((node) => node.port === cluster.nodes[0]?.port) as NodeInfo;
    // The seed's role flips: a primary hands over to its replica, a replica (after an earlier failover) takes over.
    const replica = seed.primary
      ? ((await topology()).find((node) => node.primaryId === seed.id) as NodeInfo)
      : seed;
    await promote(replica);
    await eventually(
      async () => {
        await redis.publish(channel, "after");
        expect(data().at(-1)).toBe(`data: message,${channel},after`);
      },
      10_000,
      300,
    );
    expect(data()[0]).toBe(`data: message,${channel},before`);
    expect(stream.ended()).toBe(false);
    stream.close();
  }, 45_000);

  it("the subscriber connection moves to another node when the seed node dies; open streams keep delivering", async () => {
    const stream = await subscribe(`${run}:seed-death`);
    await redis.publish(`${run}:seed-death`, "before");
    await eventually(() => expect(stream.messages()).toHaveLength(1));
    const seed = cluster.nodes[0];
    // Make the seed a replica first, so its death loses no slot.
    const seedInfo = (await topology()).find((node) => node.port === seed?.port) as NodeInfo;
    if (seedInfo.primary) {
      const replica = (await topology()).find((node) => node.primaryId === seedInfo.id) as NodeInfo;
      // FORCE: the seed may have just become primary itself, and its new replica may still be syncing.
      await promote(replica, "FORCE");
      await eventually(async () => {
        expect((await topology()).find((node) => node.port === seed?.port)?.primary).toBe(false);
      }, 10_000);
    }
    process.kill(seed?.pid as number, "SIGKILL");
    await eventually(
      async () => {
        await redis.publish(`${run}:seed-death`, "after");
        expect(stream.messages().at(-1)).toBe(`data: message,${run}:seed-death,after`);
      },
      15_000,
      300,
    );
    expect(stream.ended()).toBe(false);
    // A new stream opens and delivers too.
    const fresh = await subscribe(`${run}:seed-death-2`);
    await redis.publish(`${run}:seed-death-2`, "x");
    await eventually(() => expect(fresh.messages()).toEqual([`data: message,${run}:seed-death-2,x`]));
    stream.close();
    fresh.close();
  }, 60_000);

  it("a killed primary: requests meanwhile get 503/504 (never a wrong answer or 500), then the promoted replica serves", async () => {
    // A shard that still has a live replica to promote (an earlier test killed the seed node, which the views
    // may still list as a healthy replica for a second or two: so the replica must answer PING).
    // One settled view for every choice below (a view taken later may differ while the cluster settles).
    const all = await topology();
    const live = new Set<string>();
    for (const node of all)
      if (
        await connectionTo(node.port)
          .ping()
          .then(
            () => true,
            () => false,
          )
      )
        live.add(node.id);
    const liveReplicaOf = (primary: NodeInfo) =>
      all.find((node) => !node.primary && node.primaryId === primary.id && live.has(node.id));
    let tag = "";
    for (let i = 0; !tag; i++) {
      if (liveReplicaOf(ownerOf(all, keySlot(`${run}-kill-${i}`)))) tag = `${run}-kill-${i}`;
    }
    const [a, b, c] = await keysFor(tag, all);
    const slot = keySlot(tag);
    const victim = ownerOf(all, slot);
    const replica = liveReplicaOf(victim) as NodeInfo;
    let done = false;
    const writer = writeWhile(() => done, a, b, c);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const server = cluster.nodes.find((node) => node.port === victim.port);
    process.kill(server?.pid as number, "SIGKILL");
    await eventually(async () => expect(ownerOf(await topology(), slot).id).toBe(replica.id), 15_000);
    // After the promotion the proxy must reach the new primary: pipelines succeed again.
    await eventually(async () => expect(await redis.incr(`{${tag}}:probe`)).toBeGreaterThan(0), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    done = true;
    const { ok, failures } = await writer;
    for (const failure of failures) expect(failure).toMatch(/unavailable|did not answer/i);
    expect(ok).toBeGreaterThan(5);
  }, 40_000);
});
