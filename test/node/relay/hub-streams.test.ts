import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeRelay, startNodeRelay } from "../../../src/entry/node.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { type ProxyProcess, startProxyProcess } from "../../helpers/proxy-process.ts";
import { type RedisServer, startRedisServer } from "../../helpers/redis-server.ts";
import { token, unique } from "../client/fixture.ts";
import { type OpenSse, openSse, openStalledSse, until } from "./sse-reader.ts";

const HEARTBEAT_MS = 1000;

/**
 * SSE streams on the Node entry with the delivery hub, in front of a private redis-server and the proxy as a
 * child process (its /metrics count the upstream subscribe streams the relay holds; it is killed here).
 */
describe("SSE streams through the hub", () => {
  let server: RedisServer;
  let proxy: ProxyProcess;
  let relay: NodeRelay;
  let admin: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startProxyProcess(server.url);
    relay = await startNodeRelay({
      UPSTASH_REDIS_REST_URL: proxy.url,
      UPSTASH_REDIS_REST_TOKEN: proxy.token,
      RELAY_JWT_SECRET: TEST_JWT_SECRET,
      RELAY_HEARTBEAT_MS: String(HEARTBEAT_MS),
      RELAY_SSE_MAX_BACKLOG: "50",
      HOST: "127.0.0.1",
      PORT: "0",
    });
    admin = await token("admin");
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
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

  /** Opens a stream on a raw socket and stops reading once the head arrived. */
  async function stalledStream(path: string): Promise<Socket> {
    const { socket } = await openStalledSse(new URL(path, relay.url).toString(), admin);
    sockets.push(socket);
    return socket;
  }

  it("100 streams on a channel hold one upstream stream; a stalled reader is cut without slowing the others; all released", async () => {
    const channel = unique("hub-fanout");
    const url = `${relay.url}/v1/channels/${channel}/events`;
    const streams: OpenSse[] = [];
    try {
      for (let i = 0; i < 100; i++) streams.push(await openSse(url, admin));
      expect(await proxy.openStreams()).toBe(1);
      const stalled = await stalledStream(`/v1/channels/${channel}/events`);
      const closed = new Promise<void>((resolve) => stalled.once("close", () => resolve()));
      const payload = "x".repeat(64 * 1024);
      const sent: string[] = [];
      for (let n = 0; n < 100; n++) sent.push(await publish(channel, { n, payload }));
      await until(
        () => streams.every((stream) => stream.events.length >= 100),
        "every reader to get all 100",
      );
      for (const stream of streams) expect(stream.events.map((event) => event.id)).toEqual(sent);
      stalled.resume(); // let the socket see the relay's close
      await closed;
    } finally {
      for (const stream of streams) stream.close();
    }
    await until(
      async () => (await proxy.openStreams()) === 0,
      "the upstream stream released after the linger",
    );
  });

  it("1000 stream open/close cycles on a channel keep at most one upstream stream and leave none behind", async () => {
    const channel = unique("hub-cycles");
    const url = `${relay.url}/v1/channels/${channel}/events`;
    let most = 0;
    for (let round = 0; round < 100; round++) {
      // Ten at a time, each closed as soon as it is live (its position frame arrived).
      const streams = await Promise.all(Array.from({ length: 10 }, () => openSse(url, admin)));
      if (round % 10 === 0) most = Math.max(most, await proxy.openStreams());
      for (const stream of streams) stream.close();
    }
    expect(most).toBe(1);
    await until(
      async () => (await proxy.openStreams()) === 0,
      "the upstream stream released after the last close",
    );
    // The channel still works afterwards: a new stream gets a new message.
    const stream = await openSse(url, admin);
    try {
      const id = await publish(channel, { after: "cycles" });
      await until(() => stream.events.length === 1, "a message after the cycles");
      expect(stream.events[0]?.id).toBe(id);
    } finally {
      stream.close();
    }
  }, 120_000);

  it("100 raw=1 streams on a channel hold one upstream stream, each gets every message, released after the last closes", async () => {
    const channel = unique("hub-raw");
    const url = `${relay.url}/v1/events?channel=${channel}&raw=1`;
    const streams: OpenSse[] = [];
    await until(async () => (await proxy.openStreams()) === 0, "earlier tests' feeds released");
    try {
      for (let i = 0; i < 100; i++) streams.push(await openSse(url, admin));
      expect(await proxy.openStreams()).toBe(1);
      // A relay publish is mirrored to the classic channel as its raw payload.
      for (let n = 0; n < 5; n++) await publish(channel, { n });
      await until(
        () => streams.every((stream) => stream.events.length >= 5),
        "every raw stream to get all 5",
      );
      for (const stream of streams) {
        expect(stream.events.map((event) => (JSON.parse(event.data) as { data: string }).data)).toEqual(
          [0, 1, 2, 3, 4].map((n) => JSON.stringify({ n })),
        );
      }
    } finally {
      for (const stream of streams) stream.close();
    }
    await until(async () => (await proxy.openStreams()) === 0, "the raw upstream released after the linger");
  });

  it("a raw stream ends when its shared upstream is lost (live only: nothing to refill), and a new one works", async () => {
    const channel = unique("hub-raw-lost");
    const url = `${relay.url}/v1/events?channel=${channel}&raw=1`;
    const streams = [await openSse(url, admin), await openSse(url, admin)];
    try {
      await proxy.stop("SIGKILL");
      await proxy.start();
      await until(() => streams.every((stream) => stream.isEnded), "both raw streams to end");
      const fresh = await openSse(url, admin);
      try {
        await publish(channel, { after: "restart" });
        await until(() => fresh.events.length === 1, "a message on a new raw stream");
      } finally {
        fresh.close();
      }
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it("proxy killed and restarted: open streams go on without a reconnect and get every message", async () => {
    const channel = unique("hub-restart");
    const url = `${relay.url}/v1/channels/${channel}/events`;
    const streams: OpenSse[] = [];
    try {
      for (let i = 0; i < 5; i++) streams.push(await openSse(url, admin));
      const sent = [await publish(channel, { n: 0 })];
      await until(() => streams.every((stream) => stream.events.length === 1), "m0");
      await proxy.stop("SIGKILL");
      await proxy.start();
      for (let n = 1; n <= 5; n++) sent.push(await publish(channel, { n }));
      await until(
        () => streams.every((stream) => stream.events.length === 6),
        "every message after the restart",
      );
      for (const stream of streams) {
        expect(stream.isEnded).toBe(false);
        expect(stream.events.map((event) => event.id)).toEqual(sent);
      }
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});
