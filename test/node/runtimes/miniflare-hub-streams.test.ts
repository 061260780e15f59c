import type { Socket } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { type ProxyProcess, startProxyProcess } from "../../helpers/proxy-process.ts";
import { type RedisServer, startRedisServer } from "../../helpers/redis-server.ts";
import { mintToken, uniqueName } from "../../scenarios/harness.ts";
import { type OpenSse, openSse, openStalledSse, until } from "../relay/sse-reader.ts";
import { startWranglerDev, type WranglerDev } from "./wrangler-dev.ts";

/**
 * The Durable Object hub under `wrangler dev`, over real sockets, on a private Redis and proxy (child process, its
 * /metrics count upstream subscribe streams; its Redis subscriber is dropped here): 100 SSE streams on a channel
 * hold ONE upstream subscribe stream (the object's), released after the last stream closes; a dropped upstream
 * subscription mid-burst loses nothing and reconnects no stream; a stalled reader is cut without slowing the rest.
 */
describe("wrangler dev: SSE streams through the channel's Durable Object", () => {
  let server: RedisServer;
  let proxy: ProxyProcess;
  let worker: WranglerDev;
  let admin: string;
  let redis: Redis;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startProxyProcess(server.url);
    worker = await startWranglerDev({ url: proxy.url, token: proxy.token }, { RELAY_SSE_MAX_BACKLOG: "50" });
    admin = await mintToken(TEST_JWT_SECRET, "admin");
    redis = new Redis(server.url);
  }, 120_000);
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    redis?.disconnect();
    await worker?.stop();
    await proxy?.stop("SIGKILL");
    await server?.stop();
  });

  const publish = async (channel: string, body: unknown): Promise<string> => {
    const response = await fetch(new URL(`/v1/channels/${channel}/messages`, worker.url), {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  };

  /** Opens a stream on a raw socket and stops reading once the head arrived. */
  async function stalledStream(path: string): Promise<Socket> {
    const { socket } = await openStalledSse(new URL(path, worker.url).toString(), admin);
    sockets.push(socket);
    return socket;
  }

  /**
   * Resumes a stalled socket and resolves when the relay has ended its response: wrangler dev keeps the
   * connection (keep-alive) and ends the chunked body, so the sign is the last chunk (or a close).
   */
  function responseEnded(socket: Socket): Promise<void> {
    return new Promise((resolve) => {
      let tail = "";
      socket.on("data", (chunk: Buffer) => {
        tail = (tail + chunk.toString("latin1")).slice(-16);
        if (tail.endsWith("\r\n0\r\n\r\n")) resolve();
      });
      socket.once("close", () => resolve());
      socket.resume();
    });
  }

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

  it("the proxy's Redis subscriber dropped mid-way through a 1000-message burst: all 1000 once, in order, no reconnect", async () => {
    const channel = uniqueName("do-burst");
    const url = new URL(`/v1/channels/${channel}/events`, worker.url).toString();
    const streams: OpenSse[] = [];
    try {
      for (let i = 0; i < 20; i++) streams.push(await openSse(url, admin));
      const sent: string[] = [];
      for (let n = 0; n < 1000; n++) {
        // Publishes keep going while the proxy resubscribes: messages in that window reach no live stream and
        // must come from the object's hub filling from history.
        if (n === 300) await redis.call("CLIENT", "KILL", "TYPE", "pubsub");
        sent.push(await publish(channel, { n }));
      }
      await until(
        () => streams.every((stream) => stream.events.length >= 1000),
        "every stream to get all 1000",
        60_000,
      );
      for (const stream of streams) {
        expect(stream.isEnded).toBe(false);
        expect(stream.events.map((event) => event.id)).toEqual(sent);
      }
    } finally {
      for (const stream of streams) stream.close();
    }
  }, 180_000);

  it("a reader that stops reading is cut, and the other streams' delivery p99 stays near its no-stall figure", async () => {
    const channel = uniqueName("do-stall");
    const path = `/v1/channels/${channel}/events`;
    const streams: OpenSse[] = [];
    // Under wrangler dev, kernel and dev-proxy buffers absorb several MB before a stalled reader pushes back on the
    // object: 80 messages of 512 KiB (40 MB) overflow them, so the object sees the stall and cuts the reader.
    const payload = "x".repeat(512 * 1024);
    /** Publishes `count` messages at about 20/s; the p99 of publish-to-delivery over every stream's copy. */
    const round = async (count: number): Promise<number> => {
      const sentAt = new Map<string, number>();
      for (let n = 0; n < count; n++) {
        const at = Date.now();
        sentAt.set(await publish(channel, { n, payload }), at);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await until(
        () =>
          streams.every((stream) => stream.events.filter((e) => e.id && sentAt.has(e.id)).length === count),
        "every stream to get the round",
        60_000,
      );
      const latencies = streams
        .flatMap((stream) => stream.events.filter((e) => e.id && sentAt.has(e.id)))
        .map((event) => event.receivedAt - (sentAt.get(event.id as string) as number))
        .sort((a, b) => a - b);
      return latencies[Math.floor(latencies.length * 0.99)] as number;
    };
    try {
      for (let i = 0; i < 10; i++) streams.push(await openSse(new URL(path, worker.url).toString(), admin));
      const calm = await round(20);
      const stalled = await stalledStream(path);
      const whileStalled = await round(80);
      // A hub that waited on the stalled reader would hold everyone for as long as the reader holds out: here,
      // the others' p99 stays within a small multiple of the calm round's (a loaded 2-core machine is noisy).
      expect(whileStalled).toBeLessThanOrEqual(Math.max(3 * calm, calm + 500));
      await Promise.race([
        responseEnded(stalled),
        new Promise((_, reject) =>
          setTimeout(
            () => reject(new Error("the stalled reader was never cut (its response did not end)")),
            20_000,
          ),
        ),
      ]);
      for (const stream of streams) expect(stream.isEnded).toBe(false);
    } finally {
      for (const stream of streams) stream.close();
    }
  }, 180_000);
});
