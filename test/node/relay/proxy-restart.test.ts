import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeRelay, startNodeRelay } from "../../../src/entry/node.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { type ProxyProcess, startProxyProcess } from "../../helpers/proxy-process.ts";
import { type RedisServer, startRedisServer } from "../../helpers/redis-server.ts";
import { token, unique } from "../client/fixture.ts";
import { type OpenSse, openSse, until } from "./sse-reader.ts";

const HEARTBEAT_MS = 2000;

/**
 * The proxy is killed (SIGKILL) or drained (SIGTERM) and started again while SSE streams are open. On the direct
 * path (RELAY_HUB=off: one upstream stream per SSE stream) every stream must end within a heartbeat interval,
 * never keep sending heartbeats over a dead feed, and a client resuming from its last id gets every message
 * published after the restart. (With @upstash/redis's Subscriber the streams stayed open until rotation.)
 */
describe.each(["SIGKILL", "SIGTERM"] as const)(
  "direct path: proxy stopped with %s and restarted",
  (signal) => {
    let server: RedisServer;
    let proxy: ProxyProcess;
    let relay: NodeRelay;
    let admin: string;

    beforeAll(async () => {
      server = await startRedisServer();
      proxy = await startProxyProcess(server.url);
      relay = await startNodeRelay({
        UPSTASH_REDIS_REST_URL: proxy.url,
        UPSTASH_REDIS_REST_TOKEN: proxy.token,
        RELAY_JWT_SECRET: TEST_JWT_SECRET,
        RELAY_HEARTBEAT_MS: String(HEARTBEAT_MS),
        RELAY_HUB: "off",
        HOST: "127.0.0.1",
        PORT: "0",
      });
      admin = await token("admin");
    });
    afterAll(async () => {
      await relay?.close();
      await proxy?.stop("SIGKILL");
      await server?.stop();
    });

    const publish = async (channel: string, body: unknown) => {
      const response = await fetch(`${relay.url}/v1/channels/${channel}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(201);
      return ((await response.json()) as { id: string }).id;
    };

    it("open streams end within a heartbeat interval; resuming from the last id loses nothing", async () => {
      const channel = unique("restart");
      const url = `${relay.url}/v1/channels/${channel}/events`;
      const streams: OpenSse[] = [];
      for (let i = 0; i < 5; i++) streams.push(await openSse(url, admin));
      try {
        const first = await publish(channel, { n: 0 });
        await until(() => streams.every((stream) => stream.events.some((event) => event.id === first)), "m0");

        const stoppedAt = Date.now();
        await proxy.stop(signal);
        const endedAt = await Promise.all(streams.map((stream) => stream.ended));
        for (const at of endedAt) expect(at - stoppedAt).toBeLessThan(HEARTBEAT_MS);

        await proxy.start();
        const sent: string[] = [];
        for (let n = 1; n <= 5; n++) sent.push(await publish(channel, { n }));
        const resumed = await Promise.all(streams.map((stream) => openSse(url, admin, stream.lastId())));
        try {
          for (const stream of resumed) expect(stream.status).toBe(200);
          await until(() => resumed.every((stream) => stream.events.length >= 5), "the replay");
          for (const stream of resumed) {
            expect(stream.events.map((event) => event.id)).toEqual(sent);
            expect(stream.events.map((event) => JSON.parse(event.data).data)).toEqual(
              [1, 2, 3, 4, 5].map((n) => ({ n })),
            );
          }
        } finally {
          for (const stream of resumed) stream.close();
        }
      } finally {
        for (const stream of streams) stream.close();
      }
    });
  },
);
