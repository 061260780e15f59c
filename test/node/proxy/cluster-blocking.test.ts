import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClusterProxy, startClusterProxy } from "./cluster-fixtures.ts";

// docs/proxy.md, "Redis Cluster": blocking commands go to the primary owning their key; SCAN in /pipeline covers
// every primary, and SCAN in /multi-exec is refused with a clear error.
describe("proxy on a Redis Cluster: blocking commands and SCAN in batches", () => {
  let stack: ClusterProxy;
  let redis: Redis;
  const run = Date.now().toString(36);

  beforeAll(async () => {
    stack = await startClusterProxy(3, { allowBlocking: { timeoutMs: 10_000 } });
    redis = new Redis({ url: stack.url, token: stack.token, retry: false, enableTelemetry: false });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it("BLPOP waits on the primary that owns its key, on every primary", async () => {
    const keys = await stack.keysOnEachPrimary(`blpop-${run}`);
    for (const [index, key] of keys.entries()) {
      const popped = redis.exec<[string, string]>(["BLPOP", key, 5]);
      await new Promise((resolve) => setTimeout(resolve, 150));
      await stack.primaries[index]?.rpush(key, `item-${index}`);
      expect(await popped).toEqual([key, `item-${index}`]);
    }
  });

  it("XREAD BLOCK waits on the primary that owns its stream", async () => {
    const keys = await stack.keysOnEachPrimary(`xread-${run}`);
    for (const [index, key] of keys.entries()) {
      const read = redis.xread(key, "$", { blockMS: 5000 });
      await new Promise((resolve) => setTimeout(resolve, 150));
      const id = await stack.primaries[index]?.xadd(key, "*", "n", String(index));
      const [[stream, [[entryId]]]] = (await read) as [[string, [[string]]]];
      expect([stream, entryId]).toEqual([key, id]);
    }
  });

  it("SCAN inside /pipeline uses the compound cursor over every primary, in order with its neighbours", async () => {
    const keys = await stack.keysOnEachPrimary(`pscan-${run}`);
    for (const key of keys) await redis.set(key, "1");
    const seen: string[] = [];
    let cursor = "0";
    do {
      const [scanned, size] = (await redis
        .pipeline()
        .scan(cursor, { match: `pscan-${run}:*`, count: 1000 })
        .dbsize()
        .exec()) as [[string, string[]], number];
      expect(size).toBeGreaterThanOrEqual(3);
      seen.push(...scanned[1]);
      cursor = String(scanned[0]);
    } while (cursor !== "0");
    expect(seen.sort()).toEqual([...keys].sort());
  });

  it("SCAN inside /multi-exec is refused with a clear error, and nothing in it runs", async () => {
    const [key] = (await stack.keysOnEachPrimary(`mscan-${run}`)) as [string];
    const response = await fetch(`${stack.url}/multi-exec`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.token}` },
      body: JSON.stringify([
        ["set", key, "x"],
        ["scan", "0"],
      ]),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(
      /^ERR SCAN cannot run inside \/multi-exec on a Redis Cluster/,
    );
    expect(await redis.exists(key)).toBe(0);
  });
});
