import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { type ProxyProcess, startProxyProcess } from "../../helpers/proxy-process.ts";
import { type RedisServer, startRedisServer } from "../../helpers/redis-server.ts";
import { mintToken, uniqueName } from "../../scenarios/harness.ts";
import { type OpenSse, openSse, until } from "../relay/sse-reader.ts";
import { startWranglerDev, type WranglerDev } from "./wrangler-dev.ts";

/**
 * The Durable Object hub under `wrangler dev`, over real sockets: 100 SSE streams on a channel hold ONE upstream
 * subscribe stream (the object's), counted on a private proxy (child process, its /metrics), released after the
 * last stream closes.
 */
describe("wrangler dev: SSE streams through the channel's Durable Object", () => {
  let server: RedisServer;
  let proxy: ProxyProcess;
  let worker: WranglerDev;
  let admin: string;

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startProxyProcess(server.url);
    worker = await startWranglerDev({ url: proxy.url, token: proxy.token });
    admin = await mintToken(TEST_JWT_SECRET, "admin");
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
    await proxy?.stop("SIGKILL");
    await server?.stop();
  });

  it("100 streams on a channel hold one upstream stream, every one gets every message, released after the last", async () => {
    const channel = uniqueName("do-socket");
    const url = new URL(`/v1/channels/${channel}/events`, worker.url).toString();
    const streams: OpenSse[] = [];
    try {
      for (let i = 0; i < 100; i++) streams.push(await openSse(url, admin));
      expect(streams.every((stream) => stream.status === 200)).toBe(true);
      expect(await proxy.openStreams()).toBe(1);
      const sent: string[] = [];
      for (let n = 0; n < 5; n++) {
        const response = await fetch(new URL(`/v1/channels/${channel}/messages`, worker.url), {
          method: "POST",
          headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
          body: JSON.stringify({ n }),
        });
        expect(response.status).toBe(201);
        sent.push(((await response.json()) as { id: string }).id);
      }
      await until(
        () => streams.every((stream) => stream.events.length >= 5),
        "every stream to get all 5",
        30_000,
      );
      for (const stream of streams) expect(stream.events.map((event) => event.id)).toEqual(sent);
    } finally {
      for (const stream of streams) stream.close();
    }
    await until(
      async () => (await proxy.openStreams()) === 0,
      "the object's upstream stream released after the last stream",
      30_000,
    );
  }, 120_000);
});
