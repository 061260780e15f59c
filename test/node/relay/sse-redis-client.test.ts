import { afterAll, describe, expect, inject, it } from "vitest";
import { createApp } from "../../../src/relay/app.ts";
import { parseConfig } from "../../../src/relay/config.ts";
import { createProcessHub } from "../../../src/relay/hub/process-hub.ts";
import { createRelayRedis } from "../../../src/relay/redis/client.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { mintToken, uniqueName } from "../../scenarios/harness.ts";

/**
 * An SSE request builds its Redis client only when it reads history: a live-only stream on a channel the hub
 * positions makes no Redis call, and a client (about 13 KiB) per open stream is what grew the Node relay's young
 * generation when many streams opened at once (docs/benchmarks.md, "Memory per open stream on Node").
 * In-process against the real test stack (redis-server + proxy), the hub on.
 */
const config = parseConfig({
  UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
  UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
  RELAY_JWT_SECRET: TEST_JWT_SECRET,
  RELAY_HEARTBEAT_MS: "1000",
});
const hub = createProcessHub(config);
let built = 0;
const app = createApp({
  config,
  hub,
  createRedis: (settings, options) => {
    built++;
    return createRelayRedis(settings, options);
  },
});

afterAll(() => hub?.close());

describe("the request's Redis client on SSE", () => {
  it("is not built for live-only streams, and is built for a resumed one (its replay read)", async () => {
    expect(hub).toBeDefined();
    const channel = uniqueName("lazy");
    const token = await mintToken(TEST_JWT_SECRET, `subscribe:${channel} publish:${channel}`);
    const headers = { authorization: `Bearer ${token}` };
    const open = (extra: Record<string, string> = {}) =>
      app.fetch(
        new Request(`http://app.test/v1/channels/${channel}/events`, { headers: { ...headers, ...extra } }),
      );

    const live = [await open(), await open()];
    for (const response of live) expect(response.status).toBe(200);
    expect(built).toBe(0);

    const published = await app.fetch(
      new Request(`http://app.test/v1/channels/${channel}/messages`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ n: 1 }),
      }),
    );
    expect(published.status).toBe(201);
    const { id } = (await published.json()) as { id: string };
    const afterPublish = built;
    const resumed = await open({ "last-event-id": id });
    expect(resumed.status).toBe(200);
    expect(built).toBe(afterPublish + 1);

    for (const response of [...live, resumed]) await response.body?.cancel();
  });
});
