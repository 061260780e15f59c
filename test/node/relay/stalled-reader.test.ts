import type { Socket } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RelayClient } from "../../../src/client/index.ts";
import { adminClient, type RelayServer, startRelay, token, unique } from "../client/fixture.ts";
import { openStalledSse } from "./sse-reader.ts";

/**
 * A client that stops reading but keeps its TCP connection open blocks the relay's writes on backpressure. The
 * session must still end within its stall bound (2 heartbeat intervals) and release the live subscription, also
 * when the channel is quiet afterwards (nothing live would ever overflow the backlog). The Node entry over a raw
 * socket is where a reader can be paused for real: `socket.pause()` stops reading from the kernel, the socket
 * buffers fill, and the relay's response stream stops draining.
 */
describe("SSE stream whose reader stalls", () => {
  const HEARTBEAT_MS = 300;
  /** Enough bytes to fill loopback socket buffers (a few MB each way) several times over. */
  const PAYLOAD = "x".repeat(512 * 1024);
  const MESSAGES = 48;
  let relay: RelayServer;
  let client: RelayClient;
  let redis: Redis;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // A backlog far above what is published: only the stall bound can end these streams.
    relay = await startRelay({ RELAY_HEARTBEAT_MS: String(HEARTBEAT_MS), RELAY_SSE_MAX_BACKLOG: "100000" });
    client = await adminClient(relay.url);
    redis = new Redis(inject("redisUrl"));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    redis?.disconnect();
    await relay?.close();
  });

  const subscribers = async (channel: string) =>
    Number(((await redis.call("PUBSUB", "NUMSUB", `relay:{${channel}}:live`)) as [string, number])[1]);
  const until = async (check: () => Promise<boolean>) => {
    while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 50));
  };

  /** Opens the SSE stream on a raw socket, waits for the 200 head, then stops reading. */
  async function openStalledStream(path: string, on = relay, jwtTtlSeconds = 600): Promise<Socket> {
    const jwt = await token("subscribe:*", jwtTtlSeconds);
    const { socket, head } = await openStalledSse(`http://${on.host}:${on.port}${path}`, jwt);
    sockets.push(socket);
    expect(head.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    return socket;
  }

  it("releases the subscription when live messages back up behind a paused reader", async () => {
    const channel = unique("stall-live");
    const socket = await openStalledStream(`/v1/channels/${channel}/events`);
    expect(await subscribers(channel)).toBe(1);
    for (let i = 0; i < MESSAGES; i++) await client.publish(channel, `${i}:${PAYLOAD}`);
    await until(async () => (await subscribers(channel)) === 0);
    // Nothing was lost: a reconnect from the last id would replay every message from history.
    expect((await client.history(channel, { limit: MESSAGES })).messages).toHaveLength(MESSAGES);
    socket.destroy();
  }, 60_000);

  it("releases the subscription on a quiet channel once the replay stalls (only heartbeats would follow)", async () => {
    const channel = unique("stall-quiet");
    for (let i = 0; i < MESSAGES; i++) await client.publish(channel, `${i}:${PAYLOAD}`);
    const first = (await client.history(channel, { limit: MESSAGES })).messages[0];
    expect(first).toBeDefined();
    // Resume from before the first message: the replay alone fills the socket buffers; nothing live follows.
    const socket = await openStalledStream(
      `/v1/channels/${channel}/events?lastEventId=${encodeURIComponent(first?.id ?? "")}`,
    );
    await until(async () => (await subscribers(channel)) === 0);
    socket.destroy();
  }, 60_000);

  it("closes at the token's exp while a write is pending, long before the stall bound", async () => {
    // Heartbeat 10 min: the stall bound (20 min) cannot be what ends this stream within the test's time.
    const slowHeartbeat = await startRelay({ RELAY_HEARTBEAT_MS: "600000", RELAY_SSE_MAX_BACKLOG: "100000" });
    try {
      const channel = unique("stall-exp");
      const socket = await openStalledStream(`/v1/channels/${channel}/events`, slowHeartbeat, 3);
      for (let i = 0; i < MESSAGES; i++) await client.publish(channel, `${i}:${PAYLOAD}`);
      await until(async () => (await subscribers(channel)) === 0);
      socket.destroy();
    } finally {
      await slowHeartbeat.close();
    }
  }, 60_000);
});
