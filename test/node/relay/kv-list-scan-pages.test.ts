import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type RelayClient } from "../../../src/client/index.ts";
import { MAX_LIST_LIMIT } from "../../../src/protocol/schemas.ts";
import { token } from "../client/fixture.ts";
import { type PrivateRelay, startPrivateRelay } from "./private-relay.ts";

/**
 * `GET /v1/kv` passes `limit` to SCAN as COUNT, which is a hint: SCAN stops after the bucket that reaches COUNT,
 * so a page can hold more keys (a bucket's chain, buckets of a rehash in progress). The relay once cut such a
 * page at 1000 keys while handing back SCAN's cursor, which had moved past the cut ones: they were never listed.
 * Private stack: the SCAN pages depend on the whole keyspace, which other tests would change under us.
 */
describe("KV listing across SCAN pages larger than the limit", () => {
  let relay: PrivateRelay;
  let client: RelayClient;
  let redis: Redis;

  beforeAll(async () => {
    relay = await startPrivateRelay({ RELAY_KV_PREFIX: "kv:" });
    client = createClient({ url: relay.url, token: await token("kv:read:*") });
    redis = new Redis(relay.stack.redisUrl);
  });
  afterAll(async () => {
    redis?.disconnect();
    await relay?.close();
  });

  /** The largest page a full SCAN walk with the relay's MATCH and COUNT returns, read straight from Redis. */
  async function largestScanPage(): Promise<number> {
    let cursor = "0";
    let largest = 0;
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", "kv:*", "COUNT", MAX_LIST_LIMIT);
      largest = Math.max(largest, keys.length);
      cursor = next;
    } while (cursor !== "0");
    return largest;
  }

  it("lists every key when SCAN answers more than `limit` keys in one call", async () => {
    const written: string[] = [];
    const writeKeys = async (count: number) => {
      const pipeline = redis.pipeline();
      for (let i = 0; i < count; i++) {
        const key = `item-${String(written.length).padStart(6, "0")}`;
        written.push(key);
        pipeline.set(`kv:${key}`, "v");
      }
      await pipeline.exec();
    };
    // Grow the keyspace until a SCAN page really exceeds the limit (likely at once; each step reshapes the buckets).
    await writeKeys(12_000);
    for (let attempt = 0; attempt < 20 && (await largestScanPage()) <= MAX_LIST_LIMIT; attempt++)
      await writeKeys(700);
    expect(
      await largestScanPage(),
      "precondition: some SCAN page holds more keys than the limit",
    ).toBeGreaterThan(MAX_LIST_LIMIT);

    const listed: string[] = [];
    let cursor = "0";
    do {
      const page = await client.kv.list({ cursor, limit: MAX_LIST_LIMIT });
      listed.push(...page.keys);
      cursor = page.cursor;
    } while (cursor !== "0");
    // SCAN may return a key twice across pages (rehashing); it never misses one that existed throughout.
    expect([...new Set(listed)].sort()).toEqual(written);
  }, 120_000);
});
