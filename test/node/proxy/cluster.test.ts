import { createHash } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Command } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slotTag } from "../../../src/protocol/key-slot.ts";
import { type ClusterProxy, startClusterProxy } from "./cluster-fixtures.ts";
import { eventually } from "./proxy-fixtures.ts";

// docs/proxy.md, "Redis Cluster": the proxy seeded with one node of a 3-primary cluster uses all of it.
describe("proxy on a Redis Cluster", () => {
  let stack: ClusterProxy;
  let redis: Redis;

  beforeAll(async () => {
    stack = await startClusterProxy(3);
    redis = new Redis({ url: stack.url, token: stack.token, retry: false, enableTelemetry: false });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it("routes single commands by slot: keys on every primary are written and read back", async () => {
    const keys = await stack.keysOnEachPrimary("single");
    expect(keys).toHaveLength(3);
    for (const [index, key] of keys.entries()) {
      expect(await redis.set(key, `value-${index}`)).toBe("OK");
    }
    for (const [index, key] of keys.entries()) {
      expect(await redis.get(key)).toBe(`value-${index}`);
      // Each key really lives on its own primary (read there directly, no redirection).
      expect(await stack.primaries[index]?.get(key)).toBe(`value-${index}`);
    }
  });

  it("splits a /pipeline across primaries and answers in the request's order, errors per command", async () => {
    const keys = await stack.keysOnEachPrimary("pipe");
    const [a, b, c] = keys as [string, string, string];
    const pipeline = redis.pipeline();
    pipeline.set(a, "1").set(b, "2").set(c, "3").get(c).get(a).lpush(b, "x").get(b);
    const replies = await pipeline.exec({ keepErrors: true });
    expect(replies.map((reply) => reply.result ?? reply.error)).toEqual([
      "OK",
      "OK",
      "OK",
      3,
      1,
      "WRONGTYPE Operation against a key holding the wrong kind of value",
      2,
    ]);
  });

  it("runs /multi-exec on the primary that owns its keys", async () => {
    const tx = redis.multi();
    tx.set("{tx}:a", "1").incr("{tx}:b").get("{tx}:a");
    expect(await tx.exec()).toEqual(["OK", 1, 1]);
  });

  it("answers CROSSSLOT as the JSON error of a /multi-exec spanning slots, and writes nothing", async () => {
    const [first, second] = (await stack.keysOnEachPrimary("cross")) as [string, string];
    const response = await fetch(`${stack.url}/multi-exec`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.token}`, "content-type": "application/json" },
      body: JSON.stringify([
        ["set", first, "written"],
        ["set", second, "written"],
      ]),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string };
    expect(body.error).toMatch(/^EXECABORT .*(CROSSSLOT|MOVED)/);
    expect([await redis.exists(first), await redis.exists(second)]).toEqual([0, 0]);
  });

  it("hashes keys like {}{x} as Redis does, so a /multi-exec on one runs on its owner", async () => {
    // cluster-key-slot (ioredis) hashes `{}{x…}` by `x…`; Redis hashes the whole key. Find one whose two slots
    // belong to different primaries, so routing by ioredis's slot would queue the transaction onto a MOVED.
    let key = "";
    for (let i = 0; !key; i++) {
      const candidate = `{}{x${i}}`;
      const ioredisOwner = await stack.primaryOf(
        `{${slotTag(new Command("get", [candidate]).getSlot() as number)}}`,
      );
      if (ioredisOwner !== (await stack.primaryOf(candidate))) key = candidate;
    }
    const tx = redis.multi();
    tx.set(key, "1").incr(key).get(key);
    expect(await tx.exec()).toEqual(["OK", 2, 2]);
    expect(await stack.primaries[await stack.primaryOf(key)]?.get(key)).toBe("2");
  });

  it("loads a script on every primary, so EVALSHA after SCRIPT LOAD in a /pipeline runs wherever its key lives", async () => {
    const keys = await stack.keysOnEachPrimary("evalsha");
    const source = `return redis.call('INCRBY', KEYS[1], ARGV[1]) -- ${Date.now()}`;
    for (const [index, key] of keys.entries()) {
      const pipeline = redis.pipeline().scriptLoad(source);
      const sha = createHash("sha1").update(source).digest("hex");
      pipeline.evalsha(sha, [key], [String(index + 1)]);
      const replies = await pipeline.exec({ keepErrors: true });
      expect(replies.map((reply) => reply.result ?? reply.error)).toEqual([sha, index + 1]);
    }
  });

  it("runs EVAL where its key lives, and answers CROSSSLOT for keys spanning slots", async () => {
    const [first, second] = (await stack.keysOnEachPrimary("eval")) as [string, string];
    expect(await redis.eval("return redis.call('SET', KEYS[1], ARGV[1])", [second], ["v"])).toBe("OK");
    expect(await stack.primaries[1]?.get(second)).toBe("v");
    await expect(
      redis.eval(
        "redis.call('SET', KEYS[1], 'x'); return redis.call('SET', KEYS[2], 'x')",
        [first, second],
        [],
      ),
    ).rejects.toThrow(/CROSSSLOT/);
    expect(await redis.exists(first)).toBe(0);
  });

  it("delivers classic pub/sub on /subscribe whichever primary a message is published on", async () => {
    const channel = `cluster-sse:${Date.now()}`;
    const controller = new AbortController();
    const response = await fetch(`${stack.url}/subscribe/${channel}`, {
      method: "POST",
      body: "[]",
      signal: controller.signal,
      headers: { authorization: `Bearer ${stack.token}`, accept: "text/event-stream" },
    });
    expect(response.status).toBe(200);
    let received = "";
    if (!response.body) throw new Error("no stream body");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += value;
      }
    })().catch(() => {});
    const dataLines = () => received.split("\n").filter((line) => line.startsWith("data: "));
    await eventually(() => expect(dataLines()).toHaveLength(1));
    for (const [index, primary] of stack.primaries.entries())
      await primary.publish(channel, `via-node-${index}`);
    // PUBLISH's count is the receiving node's own subscribers, so it may be 0 here; delivery is what counts.
    await redis.publish(channel, "via-proxy");
    await eventually(() =>
      expect(dataLines()).toEqual([
        `data: subscribe,${channel},1`,
        `data: message,${channel},via-node-0`,
        `data: message,${channel},via-node-1`,
        `data: message,${channel},via-node-2`,
        `data: message,${channel},via-proxy`,
      ]),
    );
    controller.abort();
  });

  it("SCAN with a compound cursor, KEYS and DBSIZE cover every primary", async () => {
    const keys = await stack.keysOnEachPrimary("scan-all");
    for (const key of keys) await redis.set(key, "1");
    const seen: string[] = [];
    let cursor: string | number = 0;
    do {
      const [next, batch]: [string | number, string[]] = await redis.scan(cursor, {
        match: "scan-all:*",
        count: 5,
      });
      seen.push(...batch);
      cursor = next;
    } while (String(cursor) !== "0");
    expect(seen.sort()).toEqual([...keys].sort());
    expect((await redis.keys("scan-all:*")).sort()).toEqual([...keys].sort());
    const sizes = await Promise.all(stack.primaries.map((node) => node.dbsize()));
    expect(await redis.dbsize()).toBe(sizes.reduce((sum, size) => sum + size, 0));
  });

  const pipelineOf = async (commands: (string | number)[][]) => {
    const response = await fetch(`${stack.url}/pipeline`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.token}`, "content-type": "application/json" },
      body: JSON.stringify(commands),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { result?: unknown; error?: string }[];
  };

  it("SCRIPT LOAD in a /pipeline reaches every primary, so the EVALSHAs after it run on any key's primary", async () => {
    const keys = await stack.keysOnEachPrimary("script-pipe");
    // A fresh script (no node has it): FLUSH first would also flush the relay's; a unique body is enough.
    const source = `return {KEYS[1], ARGV[1], ${Date.now()}}`;
    const replies = await pipelineOf([
      ["SCRIPT", "LOAD", source],
      ...keys.map((key, index) => ["EVALSHA", "SHA", 1, key, `v${index}`]),
    ]);
    const sha = replies[0]?.result as string;
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    // The SHAs were placeholders: ask again with the real one, right after loading, in one pipeline.
    const again = await pipelineOf([
      ["SCRIPT", "LOAD", source],
      ...keys.map((key, index) => ["EVALSHA", sha, 1, key, `v${index}`]),
      ["SCRIPT", "EXISTS", sha, "0".repeat(40)],
    ]);
    expect(again.map((reply) => reply.error ?? reply.result)).toEqual([
      sha,
      ...keys.map((key, index) => [key, `v${index}`, expect.any(Number)]),
      [1, 0],
    ]);
    for (const node of stack.primaries) expect(await node.call("SCRIPT", "EXISTS", sha)).toEqual([1]);
  });

  it("SCAN and DBSIZE inside a /pipeline cover every primary, in order with the writes before them", async () => {
    const keys = await stack.keysOnEachPrimary("scan-pipe");
    const replies = await pipelineOf([
      ...keys.map((key) => ["SET", key, "1"]),
      ["KEYS", "scan-pipe:*"],
      ["DBSIZE"],
      ["DEL", ...keys.slice(0, 1)],
      ["KEYS", "scan-pipe:*"],
    ]);
    expect([...((replies[3]?.result as string[]) ?? [])].sort()).toEqual([...keys].sort());
    const sizes = await Promise.all(stack.primaries.map((node) => node.dbsize()));
    expect(replies[4]?.result).toBe(sizes.reduce((sum, size) => sum + size, 0) + 1);
    expect([...((replies[6]?.result as string[]) ?? [])].sort()).toEqual(keys.slice(1).sort());
  });

  it("PUBSUB NUMSUB, NUMPAT and CHANNELS count subscribers on every node (a PUBLISH counts only its own node's)", async () => {
    const channel = `numsub:${Date.now()}`;
    const subscribers = stack.primaries.map((node) => node.duplicate());
    try {
      for (const subscriber of subscribers) await subscriber.subscribe(channel);
      await subscribers[0]?.psubscribe(`${channel}*`);
      expect(await redis.exec(["PUBSUB", "NUMSUB", channel, "nobody"])).toEqual([channel, 3, "nobody", 0]);
      expect(Number(await redis.exec(["PUBSUB", "NUMPAT"]))).toBeGreaterThanOrEqual(1);
      expect(await redis.exec(["PUBSUB", "CHANNELS", `${channel}*`])).toEqual([channel]);
    } finally {
      for (const subscriber of subscribers) subscriber.disconnect();
    }
  });

  it("FLUSHDB empties every primary, not one", async () => {
    const keys = await stack.keysOnEachPrimary("flush");
    for (const key of keys) await redis.set(key, "1");
    expect(await redis.flushdb()).toBe("OK");
    expect(await Promise.all(stack.primaries.map((node) => node.dbsize()))).toEqual([0, 0, 0]);
  });
});
