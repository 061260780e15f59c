import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClusterProxy, startClusterProxy } from "./cluster-fixtures.ts";

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
});
