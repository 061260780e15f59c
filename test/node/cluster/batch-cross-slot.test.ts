import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/relay/app.ts";
import { parseConfig } from "../../../src/relay/config.ts";
import { keySlot } from "../../../src/relay/redis/key-slot.ts";
import { channelKeys } from "../../../src/relay/redis/keys.ts";
import { type ClusterProxy, startClusterProxy } from "../proxy/cluster-fixtures.ts";

/**
 * The batch publish on Redis Cluster (docs/api.md, `POST /v1/publish`): one all-or-nothing script cannot touch
 * several channels' slots, so such a batch is refused with 400 `cross_slot` and publishes nothing, while a
 * batch on one channel works on whichever primary owns it. The relay talks to a real 3-primary cluster through
 * the project's proxy, seeded with one node; the batch's SCRIPT LOAD + EVALSHA pipeline must find the script on
 * the primary that runs it.
 */
let stack: ClusterProxy;
let app: ReturnType<typeof createApp>;
const run = Date.now().toString(36);

/** A channel (no braces: its keys hash by its name) served by each primary, in `stack.primaries` order. */
async function channelsOnEachPrimary(): Promise<string[]> {
  const keys = await stack.keysOnEachPrimary(`batch-${run}`);
  return keys.map((key) => {
    const channel = key;
    expect(keySlot(channelKeys(channel).log)).toBe(keySlot(key));
    return channel;
  });
}

const publish = (messages: { channel: string; data: unknown }[]) =>
  app.request("/v1/publish", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages }),
  });

beforeAll(async () => {
  stack = await startClusterProxy(3);
  app = createApp({
    config: parseConfig({
      UPSTASH_REDIS_REST_URL: stack.url,
      UPSTASH_REDIS_REST_TOKEN: stack.token,
      RELAY_AUTH: "none",
    }),
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe("POST /v1/publish on Redis Cluster", () => {
  it("a batch over channels in several slots is 400 cross_slot, naming them, and publishes nothing", async () => {
    const [first, second] = (await channelsOnEachPrimary()) as [string, string];
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
    for (const [index, channel] of [first, second].entries()) {
      const keys = channelKeys(channel);
      const node = stack.primaries[index];
      expect(await node?.exists(keys.log, keys.epoch)).toBe(0);
    }
  });

  it("one-channel batches are published whole on every primary (the script is loaded where it runs)", async () => {
    const channels = await channelsOnEachPrimary();
    // Twice round the primaries, so a SCRIPT LOAD that lands on another node than its EVALSHA shows up.
    for (const round of [1, 2]) {
      for (const [index, channel] of channels.entries()) {
        const response = await publish([
          { channel, data: { round, n: 1 } },
          { channel, data: "two" },
        ]);
        expect(response.status, `${channel}: ${await response.clone().text()}`).toBe(201);
        expect(await stack.primaries[index]?.xlen(channelKeys(channel).log)).toBe(2 * round);
      }
    }
  });
});
