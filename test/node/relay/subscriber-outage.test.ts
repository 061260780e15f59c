import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type RelayClient } from "../../../src/client/index.ts";
import { token, unique } from "../client/fixture.ts";
import { consume, dataOf } from "../client/subscribe-helpers.ts";
import { type PrivateRelay, startPrivateRelay } from "./private-relay.ts";

/**
 * The proxy's shared subscriber connection to Redis can drop while its command connection stays up (a
 * `CLIENT KILL TYPE pubsub`, a failover, a network blip on one socket). Messages published until the proxy has
 * subscribed again reach no live stream, so an open SSE stream must not carry on as if nothing happened: it
 * ends, and the client resumes from its cursor (replay), losing nothing. Private stack: killing pub/sub
 * connections of the shared one would disturb every other test.
 */
describe("relay streams across a lost upstream subscription", () => {
  let relay: PrivateRelay;
  let client: RelayClient;
  let redis: Redis;

  beforeAll(async () => {
    relay = await startPrivateRelay();
    client = createClient({ url: relay.url, token: await token("admin") });
    redis = new Redis(relay.stack.redisUrl);
  });
  afterAll(async () => {
    redis?.disconnect();
    await relay?.close();
  });

  const subscribers = async (channel: string) =>
    Number(((await redis.call("PUBSUB", "NUMSUB", `relay:{${channel}}:live`)) as [string, number])[1]);
  const until = async (check: () => Promise<boolean>) => {
    while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
  };

  it("a message published while the proxy was resubscribing still reaches the open subscriber", async () => {
    const channel = unique("outage");
    const run = consume(client, channel, 3, { backoff: { initialMs: 50, maxMs: 500 } });
    try {
      await run.live;
      await client.publish(channel, "before");
      // Connections already authenticated keep working; the killed subscriber cannot come back until the
      // password is cleared, so "m1" is published, deterministically, while nothing is subscribed.
      await redis.call("CONFIG", "SET", "requirepass", "outage-test");
      await redis.call("CLIENT", "KILL", "TYPE", "pubsub");
      await until(async () => (await subscribers(channel)) === 0);
      await client.publish(channel, "during");
      await redis.call("CONFIG", "SET", "requirepass", "");
      await until(async () => (await subscribers(channel)) > 0);
      await client.publish(channel, "after");
      expect(dataOf(await run.events)).toEqual(["before", "during", "after"]);
    } finally {
      await redis.call("CONFIG", "SET", "requirepass", "");
      run.stop();
    }
  });
});
