import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProxy } from "../../../src/proxy/index.ts";
import { freePort } from "../../helpers/free-port.ts";
import { type ProxyProcess, startProxyProcess } from "../../helpers/proxy-process.ts";
import { type ClusterProxy, startClusterProxy } from "./cluster-fixtures.ts";

// docs/proxy.md, "Redis Cluster": seed lists (--redis-cluster-nodes / REDIS_CLUSTER_NODES, and a tokens-file entry's
// `cluster_nodes`) let the proxy find the cluster while the node the URL names, and the first seed listed, are down.
describe("proxy cluster seed nodes", () => {
  let stack: ClusterProxy;
  let proxy: ProxyProcess | undefined;
  let deadA: number;
  let deadB: number;

  beforeAll(async () => {
    stack = await startClusterProxy(3);
    // Free ports with nothing listening: seeds that refuse connections, as a dead node does.
    [deadA, deadB] = [await freePort(), await freePort()];
  }, 60_000);
  afterAll(async () => {
    await proxy?.stop();
    await stack?.stop();
  });

  it("the proxy CLI with --redis and the first seed dead uses the cluster through a later seed", async () => {
    const live = stack.cluster.nodes[1]?.port;
    proxy = await startProxyProcess(`redis://127.0.0.1:${deadA}`, [
      "--redis-cluster-nodes",
      `127.0.0.1:${deadB},127.0.0.1:${live}`,
    ]);
    const redis = new Redis({ url: proxy.url, token: proxy.token, retry: false, enableTelemetry: false });
    const keys = await stack.keysOnEachPrimary("seeds");
    for (const [index, key] of keys.entries()) expect(await redis.set(key, `v${index}`)).toBe("OK");
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.get(key);
    expect(await pipeline.exec()).toEqual(["v0", "v1", "v2"]);
    for (const [index, key] of keys.entries())
      expect(await stack.primaries[index]?.get(key)).toBe(`v${index}`);
  });

  it("without seed nodes the same dead URL answers 503 (the seeds are what found the cluster)", async () => {
    const alone = createProxy({
      log: () => {},
      redisUrl: `redis://127.0.0.1:${deadA}`,
      token: "t",
      readyWaitMs: 300,
    });
    const { url } = await alone.listen({ host: "127.0.0.1", port: 0 });
    try {
      const response = await fetch(`${url}/get/x`, { headers: { authorization: "Bearer t" } });
      expect(response.status).toBe(503);
    } finally {
      await alone.close();
    }
  });

  it("a tokens-file entry's cluster_nodes find its cluster while its URL's node and the first seed are dead", async () => {
    const live = stack.cluster.nodes[2]?.port;
    const file = join(mkdtempSync(join(tmpdir(), "proxy-seed-tokens-")), "tokens.json");
    writeFileSync(
      file,
      JSON.stringify({
        "seeded-token": {
          connection_string: `redis://127.0.0.1:${deadA}`,
          cluster_nodes: [`127.0.0.1:${deadB}`, `127.0.0.1:${live}`],
        },
        // Same URL, no seeds of its own: it shares the entry's connections, so the seeds serve it too.
        "reader-token": { connection_string: `redis://127.0.0.1:${deadA}`, read_only: true },
      }),
    );
    const seeded = createProxy({ log: () => {}, tokensFile: file, readyWaitMs: 300 });
    const { url } = await seeded.listen({ host: "127.0.0.1", port: 0 });
    try {
      const redis = new Redis({ url, token: "seeded-token", retry: false, enableTelemetry: false });
      const reader = new Redis({ url, token: "reader-token", retry: false, enableTelemetry: false });
      const keys = await stack.keysOnEachPrimary("token-seeds");
      for (const [index, key] of keys.entries()) expect(await redis.set(key, `t${index}`)).toBe("OK");
      for (const [index, key] of keys.entries()) {
        expect(await reader.get(key)).toBe(`t${index}`);
        expect(await stack.primaries[index]?.get(key)).toBe(`t${index}`);
      }
    } finally {
      await seeded.close();
    }
  });

  it("refuses a malformed cluster_nodes entry in a tokens file, naming the file and the entry", () => {
    const file = join(mkdtempSync(join(tmpdir(), "proxy-seed-tokens-")), "tokens.json");
    writeFileSync(
      file,
      JSON.stringify({ t: { connection_string: "redis://h:1", cluster_nodes: ["h:1", "nope"] } }),
    );
    expect(() => createProxy({ tokensFile: file })).toThrow(
      /tokens\.json.*cluster seed node must be host:port.*"nope"/,
    );
    expect(() =>
      createProxy({ tokens: { t: { redisUrl: "redis://h:1", clusterNodes: ["[::1]"] } } }),
    ).toThrow(/cluster seed node must be host:port.*"\[::1\]"/);
  });

  it("refuses a malformed seed node with a message naming it", () => {
    expect(() => createProxy({ token: "t", redisClusterNodes: ["127.0.0.1"] })).toThrow(
      /cluster seed node must be host:port.*"127\.0\.0\.1"/,
    );
  });
});
