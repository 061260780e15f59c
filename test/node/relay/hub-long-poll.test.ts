import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeRelay, startNodeRelay } from "../../../src/entry/node.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { type ProxyProcess, startProxyProcess } from "../../helpers/proxy-process.ts";
import { type RedisServer, startRedisServer } from "../../helpers/redis-server.ts";
import { token, unique } from "../client/fixture.ts";
import { type OpenSse, openSse, until } from "./sse-reader.ts";

/** Hub history reads give up after this (RELAY_HUB_READ_TIMEOUT_MS); the feed's ready timeout is 10 s. */
const HUB_READ_TIMEOUT_MS = 1_000;

interface Page {
  messages: { id: string; data: unknown }[];
  cursor: string;
  gap: boolean;
}

/**
 * Long-poll through the Node relay's delivery hub (docs/api.md, long-poll), in front of a private redis-server and
 * the proxy as a child process. The proxy's /metrics count every Redis request the relay makes, the hub's own
 * included (a response's x-relay-redis-calls counts only the request's). The hub's periodic check is slowed
 * (long heartbeat) so it cannot land inside a count. The proxy's command timeout is long, so only the hub's own
 * read timeout can bound a read while Redis is frozen (SIGSTOP, always continued).
 */
describe("long-poll on the hub", () => {
  let server: RedisServer;
  let proxy: ProxyProcess;
  let relay: NodeRelay;
  let admin: string;

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startProxyProcess(server.url, ["--command-timeout-ms", "60000"]);
    relay = await startNodeRelay({
      UPSTASH_REDIS_REST_URL: proxy.url,
      UPSTASH_REDIS_REST_TOKEN: proxy.token,
      RELAY_JWT_SECRET: TEST_JWT_SECRET,
      RELAY_HEARTBEAT_MS: "60000",
      RELAY_HUB_READ_TIMEOUT_MS: String(HUB_READ_TIMEOUT_MS),
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

  /** Requests the proxy served that reach Redis (not /metrics, /healthz, preflight). */
  async function redisRequests(): Promise<number> {
    const text = await (await fetch(`${proxy.url}/metrics`)).text();
    let total = 0;
    for (const match of text.matchAll(
      /^upstash_proxy_requests_total\{endpoint="([a-z-]+)",[^}]*\} (\d+)$/gm,
    )) {
      if (!["metrics", "healthz", "preflight", "other"].includes(match[1] as string))
        total += Number(match[2]);
    }
    return total;
  }

  async function publish(channel: string, body: unknown): Promise<{ id: string; calls: number }> {
    const response = await fetch(`${relay.url}/v1/channels/${channel}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(201);
    const calls = Number(response.headers.get("x-relay-redis-calls"));
    return { id: ((await response.json()) as { id: string }).id, calls };
  }

  async function poll(
    channel: string,
    query: string,
  ): Promise<{ status: number; page: Page; calls: number }> {
    const response = await fetch(`${relay.url}/v1/channels/${channel}/messages${query}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const calls = Number(response.headers.get("x-relay-redis-calls"));
    return { status: response.status, page: (await response.json()) as Page, calls };
  }

  it("a waiter at the hub's newest position, or a few messages behind it, costs no Redis request", async () => {
    const channel = unique("lp-hub-free");
    const before = await publish(channel, { n: -1 });
    const m0 = await publish(channel, { n: 0 });
    // An open stream keeps the channel's feed (its one upstream subscription) open for the whole test.
    const holder: OpenSse = await openSse(`${relay.url}/v1/channels/${channel}/events`, admin);
    try {
      // At the newest position: registers on the hub, waits, wakes with the next message from the live feed.
      const start = await redisRequests();
      const waiting = poll(channel, `?after=${m0.id}&wait=20`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await redisRequests(), "waiting at the newest position").toBe(start);
      const m1 = await publish(channel, { n: 1 });
      const woken = await waiting;
      expect(woken.page).toEqual({
        messages: [expect.objectContaining({ id: m1.id })],
        cursor: m1.id,
        gap: false,
      });
      expect(woken.calls).toBe(0);
      expect(await redisRequests(), "only the publish's own requests").toBe(start + m1.calls);

      // Two messages behind (published between its previous answer and this request): answered from the hub.
      const m2 = await publish(channel, { n: 2 });
      const m3 = await publish(channel, { n: 3 });
      await until(() => holder.events.length >= 3, "the feed to deliver m2 and m3");
      const behindStart = await redisRequests();
      const behind = await poll(channel, `?after=${m1.id}&wait=20`);
      expect(behind.page.messages.map((message) => message.id)).toEqual([m2.id, m3.id]);
      expect(behind.page.cursor).toBe(m3.id);
      expect(await redisRequests(), "a waiter just behind the newest position").toBe(behindStart);
      const limited = await poll(channel, `?after=${m1.id}&wait=20&limit=1`);
      expect(limited.page.messages.map((message) => message.id)).toEqual([m2.id]);

      // Behind what the hub saw (before its feed opened): history, as without the hub.
      const old = await poll(channel, `?after=${before.id}&wait=20`);
      expect(old.page.messages.map((message) => message.id)).toEqual([m0.id, m1.id, m2.id, m3.id]);
      expect(old.calls).toBeGreaterThanOrEqual(1);
    } finally {
      holder.close();
    }
  });

  it("publish and long-poll loops race: every loop gets every message once, in order, across a channel drop", async () => {
    const channel = unique("lp-hub-race");
    const first = await publish(channel, { n: -1 });
    const LOOPS = 20;
    const MESSAGES = 120;
    const DROP_AFTER = 60;
    const sent: string[] = [];
    const deadline = Date.now() + 60_000;
    const loops = Array.from({ length: LOOPS }, async () => {
      const received: string[] = [];
      let gaps = 0;
      let cursor = first.id;
      // A loop that missed a message would wait for it until the deadline, then fail the comparison below.
      while (received.length < MESSAGES && Date.now() < deadline) {
        const { status, page } = await poll(channel, `?after=${cursor}&wait=5`);
        expect(status).toBe(200);
        if (page.gap) gaps += 1;
        for (const message of page.messages) received.push(message.id);
        cursor = page.cursor;
      }
      return { received, gaps };
    });
    for (let n = 0; n < MESSAGES; n++) {
      if (n === DROP_AFTER) {
        // Every message so far delivered to every loop before the drop, so the gap loses nothing anyone awaits.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const dropped = await fetch(`${relay.url}/v1/channels/${channel}`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${admin}` },
        });
        expect([200, 204]).toContain(dropped.status);
      }
      sent.push((await publish(channel, { n })).id);
      if (n % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    for (const { received, gaps } of await Promise.all(loops)) {
      expect(received).toEqual(sent);
      expect(gaps).toBeLessThanOrEqual(1);
    }
  }, 90_000);

  it("a frozen Redis fails the hub's catch-up read within its timeout: the stream answers 503, then recovers", async () => {
    const channel = unique("lp-hub-frozen");
    const m0 = await publish(channel, { n: 0 });
    // The proxy already holds the live subscription for another subscriber, so it confirms the hub's at once
    // without Redis: what the frozen Redis stalls is the hub's catch-up read.
    const tap = new AbortController();
    const tapped = await fetch(`${proxy.url}/subscribe/${encodeURIComponent(`relay:{${channel}}:live`)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${proxy.token}`, accept: "text/event-stream" },
      signal: tap.signal,
    });
    expect(tapped.status).toBe(200);
    process.kill(server.pid, "SIGSTOP");
    let frozen = true;
    try {
      const started = Date.now();
      const answer = await fetch(`${relay.url}/v1/channels/${channel}/messages?after=${m0.id}&wait=20`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      const elapsed = Date.now() - started;
      expect(answer.status).toBe(503);
      expect(((await answer.json()) as { code: string }).code).toBe("redis_unavailable");
      // Bounded by the hub's read timeout, well before the feed's own 10 s ready timeout.
      expect(elapsed).toBeLessThan(HUB_READ_TIMEOUT_MS + 4_000);
      process.kill(server.pid, "SIGCONT");
      frozen = false;
      const m1 = await publish(channel, { n: 1 });
      const after = await poll(channel, `?after=${m0.id}&wait=20`);
      expect(after.page.messages.map((message) => message.id)).toEqual([m1.id]);
    } finally {
      if (frozen) process.kill(server.pid, "SIGCONT");
      tap.abort();
    }
  }, 30_000);
});
