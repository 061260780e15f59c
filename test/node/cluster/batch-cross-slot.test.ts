import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keySlot } from "../../../src/protocol/key-slot.ts";
import { createApp } from "../../../src/relay/app.ts";
import { parseConfig } from "../../../src/relay/config.ts";
import { channelKeys } from "../../../src/relay/redis/keys.ts";
import { type ProxyProcess, startProxyProcess } from "../../helpers/proxy-process.ts";
import { type RedisCluster, startRedisCluster } from "../../helpers/redis-cluster.ts";

/**
 * The batch publish on Redis Cluster (docs/api.md, `POST /v1/publish`): one all-or-nothing script cannot touch
 * several channels' slots, so such a batch is refused with 400 `cross_slot` and publishes nothing, while a
 * batch on one channel works. The relay talks to a real 3-primary cluster through the project's proxy, seeded
 * with one node: channels in two slots of that node (Redis refuses the script) and on two primaries (the proxy
 * refuses it, as Redis would).
 */
let cluster: RedisCluster;
let proxy: ProxyProcess;
let client: Cluster;
let app: ReturnType<typeof createApp>;
const run = Date.now().toString(36);

/** `count` channel names whose slot the seed node serves, in distinct slots. */
function channelsOnSeed(count: number): string[] {
  const seed = `127.0.0.1:${cluster.nodes[0]?.port}`;
  const found: string[] = [];
  const slots = new Set<number>();
  for (let i = 0; found.length < count; i++) {
    const channel = `batch-${run}-${i}`;
    const slot = keySlot(channel);
    if (client.slots[slot]?.[0] === seed && !slots.has(slot)) {
      slots.add(slot);
      found.push(channel);
    }
  }
  return found;
}

const publish = (messages: { channel: string; data: unknown }[]) =>
  app.request("/v1/publish", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages }),
  });

beforeAll(async () => {
  cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 0 });
  client = new Cluster([{ host: "127.0.0.1", port: cluster.nodes[0]?.port as number }]);
  await client.cluster("INFO");
  proxy = await startProxyProcess(cluster.url);
  app = createApp({
    config: parseConfig({
      UPSTASH_REDIS_REST_URL: proxy.url,
      UPSTASH_REDIS_REST_TOKEN: proxy.token,
      RELAY_AUTH: "none",
    }),
  });
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await proxy?.stop();
  await cluster?.stop();
});

describe("POST /v1/publish on Redis Cluster", () => {
  it("a batch over channels in several slots is 400 cross_slot, naming them, and publishes nothing", async () => {
    const [first, second] = channelsOnSeed(2) as [string, string];
    const response = await publish([
      { channel: first, data: { n: 1 } },
      { channel: second, data: { n: 2 } },
      { channel: first, data: { n: 3 } },
    ]);
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await response.json()) as { code: string; detail: string; channels: string[] };
    expect(problem.code).toBe("cross_slot");
    expect(problem.channels).toEqual([first, second]);
    expect(problem.detail).toMatch(/nothing was published/);
    for (const channel of [first, second]) {
      const keys = channelKeys(channel);
      expect(await client.exists(keys.log, keys.epoch)).toBe(0);
    }
  });

  it("a batch over channels on different primaries is refused the same way (the proxy answers CROSSSLOT)", async () => {
    const [onSeed] = channelsOnSeed(1) as [string];
    const seed = `127.0.0.1:${cluster.nodes[0]?.port}`;
    let elsewhere = "";
    for (let i = 0; !elsewhere; i++) {
      const channel = `other-${run}-${i}`;
      if (client.slots[keySlot(channel)]?.[0] !== seed) elsewhere = channel;
    }
    const response = await publish([
      { channel: onSeed, data: 1 },
      { channel: elsewhere, data: 2 },
    ]);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe("cross_slot");
    for (const channel of [onSeed, elsewhere]) expect(await client.exists(channelKeys(channel).log)).toBe(0);
  });

  it("a batch on one channel is published whole", async () => {
    const [channel] = channelsOnSeed(1) as [string];
    const response = await publish([
      { channel, data: { n: 1 } },
      { channel, data: "two" },
    ]);
    expect(response.status).toBe(201);
    expect(await client.xlen(channelKeys(channel).log)).toBe(2);
  });
});
