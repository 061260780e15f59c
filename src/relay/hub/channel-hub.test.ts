import { Redis as TcpRedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyProcess, startProxyProcess } from "../../../test/helpers/proxy-process.ts";
import { type RedisServer, startRedisServer } from "../../../test/helpers/redis-server.ts";
import { until, untilAsync } from "../../../test/helpers/until.ts";
import { parseConfig } from "../config.ts";
import type { LiveItem } from "../live/live-item.ts";
import { createRelayRedis } from "../redis/client.ts";
import { PUBLISH_LUA } from "../redis/publish-script.ts";
import { type ChannelHub, createChannelHub } from "./channel-hub.ts";

const CHECK_MS = 1000;
const LINGER_MS = 300;

/** The hub against a real redis-server and the REST proxy as a child process (killed and restarted here). */
describe("channel hub", () => {
  let server: RedisServer;
  let proxy: ProxyProcess;
  let redis: TcpRedis;
  let hub: ChannelHub;
  let sequence = 0;
  const logs: string[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startProxyProcess(server.url);
    redis = new TcpRedis(server.url);
    const config = parseConfig({
      UPSTASH_REDIS_REST_URL: proxy.url,
      UPSTASH_REDIS_REST_TOKEN: proxy.token,
      RELAY_AUTH: "none",
    });
    hub = createChannelHub({
      redis: createRelayRedis(config),
      upstream: config.upstash,
      checkIntervalMs: CHECK_MS,
      lingerMs: LINGER_MS,
      log: (message) => logs.push(message),
    });
  });
  afterAll(async () => {
    hub?.close();
    redis?.disconnect();
    await proxy?.stop("SIGKILL");
    await server?.stop();
  });

  const uniqueChannel = (name: string) => `hub-${name}-${++sequence}`;
  const SILENT_PUBLISH_LUA = PUBLISH_LUA.replace(
    "redis.call('PUBLISH', 'relay:{' .. ch .. '}:live'",
    "(function() end)(''",
  );
  /**
   * Stores and announces a message exactly as the relay's publish does (the public publish script); with
   * `announce` false it is stored only, as if the upstream lost its notification.
   */
  const store = (channel: string, text: string, options: { event?: string; announce?: boolean } = {}) =>
    redis.eval(
      options.announce === false ? SILENT_PUBLISH_LUA : PUBLISH_LUA,
      2,
      `relay:{${channel}}:log`,
      `relay:{${channel}}:epoch`,
      channel,
      text,
      "json",
      options.event ?? "",
      "",
      "1000",
      "86400",
      "300",
      "0",
    );
  const publish = (channel: string, data: unknown, announce = true) =>
    store(channel, JSON.stringify(data), { announce });

  function listen(source: { channel: string } | { pattern: string }) {
    const items: LiveItem[] = [];
    const failures: Error[] = [];
    const subscription = hub.subscribe(source, {
      deliver: (item) => items.push(item),
      fail: (error) => failures.push(error),
    });
    const data = () => items.map((item) => (item.kind === "message" ? JSON.parse(item.json).data : item));
    return { items, failures, subscription, data };
  }

  it("100 listeners on a channel share one upstream stream, get every message once in order, same frames", async () => {
    const channel = uniqueChannel("fanout");
    const before = await proxy.openStreams();
    const listeners = Array.from({ length: 100 }, () => listen({ channel }));
    await Promise.all(listeners.map((listener) => listener.subscription.ready));
    expect(await proxy.openStreams()).toBe(before + 1);
    expect(hub.stats().upstreams).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 20; i++) await publish(channel, { i });
    await until(() => listeners.every((listener) => listener.items.length === 20));
    for (const listener of listeners)
      expect(listener.data()).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })));
    // Parsed and framed once: every listener holds the very same item objects.
    expect(listeners[7]?.items[3]).toBe(listeners[42]?.items[3]);
    for (const listener of listeners) listener.subscription.close();
    await untilAsync(async () => (await proxy.openStreams()) === before);
    expect(hub.stats().feeds).toBe(0);
  });

  it("a JSON entry's text is spliced into the frame as stored; a foreign non-JSON entry is delivered as text", async () => {
    const channel = uniqueChannel("frames");
    const listener = listen({ channel });
    await listener.subscription.ready;
    await store(channel, '{"big":12345678901234567890,"x":1.50}', { event: "note" });
    await store(channel, "{not json");
    await until(() => listener.items.length === 2);
    const [first, second] = listener.items;
    if (first?.kind !== "message" || second?.kind !== "message") throw new Error("expected two messages");
    expect(first.json).toContain('"data":{"big":12345678901234567890,"x":1.50}');
    expect(first.frame).toBe(`id: ${JSON.parse(first.json).id}\nevent: note\ndata: ${first.json}\n\n`);
    expect(JSON.parse(second.json).data).toBe("{not json");
    listener.subscription.close();
  });

  it("the proxy's Redis subscriber dropped mid-burst: every listener gets all messages once, in order, no failure", async () => {
    const channel = uniqueChannel("burst");
    const listeners = Array.from({ length: 10 }, () => listen({ channel }));
    await Promise.all(listeners.map((listener) => listener.subscription.ready));
    const total = 1000;
    const publishing = (async () => {
      for (let i = 0; i < total; i++) {
        await publish(channel, { i });
        if (i === 300) {
          // Already-authenticated connections keep working; the killed subscriber cannot return until cleared,
          // so messages are published while nothing is subscribed.
          await redis.call("CONFIG", "SET", "requirepass", "hub-test");
          await redis.call("CLIENT", "KILL", "TYPE", "pubsub");
        }
        if (i === 500) await redis.call("CONFIG", "SET", "requirepass", "");
      }
    })();
    try {
      await publishing;
    } finally {
      await redis.call("CONFIG", "SET", "requirepass", "");
    }
    await until(() => listeners.every((listener) => listener.items.length >= total), 20_000);
    // The gap was real: the proxy told the hub it restored the subscription, and the hub filled from history.
    expect(logs.some((line) => line.includes("subscription restored"))).toBe(true);
    const expected = Array.from({ length: total }, (_, i) => ({ i }));
    for (const listener of listeners) {
      expect(listener.failures).toEqual([]);
      expect(listener.data()).toEqual(expected);
    }
    for (const listener of listeners) listener.subscription.close();
  });

  it("the proxy killed and restarted within the check interval: the feed reopens and fills, no failure", async () => {
    const channel = uniqueChannel("restart");
    const listener = listen({ channel });
    await listener.subscription.ready;
    await publish(channel, { n: 0 });
    await until(() => listener.items.length === 1);
    await proxy.stop("SIGKILL");
    await publish(channel, { n: 1 }); // stored while the relay's feed is down
    await proxy.start();
    await publish(channel, { n: 2 });
    await until(() => listener.items.length === 3);
    expect(listener.data()).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    expect(listener.failures).toEqual([]);
    listener.subscription.close();
  });

  it("the upstream down longer than the check interval: listeners are failed (their streams end and resume)", async () => {
    const channel = uniqueChannel("down");
    const listener = listen({ channel });
    await listener.subscription.ready;
    const stoppedAt = Date.now();
    await proxy.stop("SIGTERM");
    try {
      await until(() => listener.failures.length === 1, 10_000);
      expect(Date.now() - stoppedAt).toBeLessThan(CHECK_MS * 3);
    } finally {
      await proxy.start();
    }
    listener.subscription.close();
  });

  it("a message stored but never announced (an upstream that lost it silently) arrives through the check", async () => {
    const channel = uniqueChannel("check");
    const listener = listen({ channel });
    await listener.subscription.ready;
    await publish(channel, { n: 1 });
    await publish(channel, { n: 2 }, false);
    await until(() => listener.items.length === 2, CHECK_MS * 4);
    await publish(channel, { n: 3 });
    await until(() => listener.items.length === 3);
    expect(listener.data()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    listener.subscription.close();
  });

  it("recentAfter answers the cursors a channel feed covers, and only history after a loss", async () => {
    const channel = uniqueChannel("recent");
    await publish(channel, { n: 0 });
    const listener = listen({ channel });
    await listener.subscription.ready;
    const opened = listener.subscription.position(channel);
    if (!opened) throw new Error("the feed knows where the channel stands once ready");
    expect(listener.subscription.recentAfter(opened, 10)).toEqual([]);
    await publish(channel, { n: 1 });
    await publish(channel, { n: 2 });
    await until(() => listener.items.length === 2);
    const positions = listener.items.map((item) => (item.kind === "message" ? item.position : opened));
    expect(listener.subscription.recentAfter(opened, 10)).toEqual(listener.items);
    expect(listener.subscription.recentAfter(positions[0] as typeof opened, 10)).toEqual([listener.items[1]]);
    expect(listener.subscription.recentAfter(positions[1] as typeof opened, 10)).toEqual([]);
    expect(listener.subscription.recentAfter({ ...opened, streamId: "1-0" }, 10)).toBeUndefined();
    // A message the upstream never announced, older than one it did: the check fails the listeners, and the
    // record starts again where the feed stands (older cursors go to history).
    await publish(channel, { n: 3 }, false);
    await publish(channel, { n: 4 });
    await until(() => listener.failures.length === 1, CHECK_MS * 4);
    const next = listen({ channel });
    await next.subscription.ready;
    const newest = next.subscription.position(channel);
    if (!newest) throw new Error("the feed knows where the channel stands once ready");
    expect(next.subscription.recentAfter(opened, 10)).toBeUndefined();
    expect(next.subscription.recentAfter(newest, 10)).toEqual([]);
    next.subscription.close();
    listener.subscription.close();
  });

  it("a pattern feed fills the channels it knows after the subscription was restored", async () => {
    const prefix = uniqueChannel("pat");
    const listener = listen({ pattern: `${prefix}.*` });
    await listener.subscription.ready;
    await publish(`${prefix}.a`, { n: 1 });
    await until(() => listener.items.length === 1);
    await redis.call("CONFIG", "SET", "requirepass", "hub-test");
    try {
      await redis.call("CLIENT", "KILL", "TYPE", "pubsub");
      await publish(`${prefix}.a`, { n: 2 });
    } finally {
      await redis.call("CONFIG", "SET", "requirepass", "");
    }
    await until(() => listener.items.length === 2);
    await publish(`${prefix}.a`, { n: 3 });
    await until(() => listener.items.length === 3);
    expect(listener.data()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    listener.subscription.close();
  });

  it("1000 subscribe/close cycles leave no feed, no listener and no upstream stream behind", async () => {
    const channel = uniqueChannel("cycles");
    await untilAsync(async () => hub.stats().feeds === 0);
    const before = await proxy.openStreams();
    for (let i = 0; i < 1000; i++) {
      const listener = listen({ channel });
      if (i % 100 === 0) await listener.subscription.ready;
      listener.subscription.close();
    }
    await untilAsync(async () => hub.stats().feeds === 0 && (await proxy.openStreams()) === before);
    expect(hub.stats()).toEqual({ feeds: 0, upstreams: 0, listeners: 0 });
  });

  it("raw: listeners of a classic channel and of a pattern share one upstream each, get every PUBLISH, linger, then release", async () => {
    const channel = uniqueChannel("raw");
    await untilAsync(async () => hub.stats().feeds === 0);
    const before = await proxy.openStreams();
    const received: string[][] = [[], [], []];
    const failures: Error[] = [];
    const listener = (index: number) => ({
      deliver: (message: { data: string; pattern?: string }) =>
        received[index]?.push(`${message.pattern ?? "-"}:${message.data}`),
      fail: (error: Error) => failures.push(error),
    });
    const subscriptions = [
      hub.subscribeRaw({ channel }, listener(0)),
      hub.subscribeRaw({ channel }, listener(1)),
      hub.subscribeRaw({ pattern: `${channel}*` }, listener(2)),
    ];
    await Promise.all(subscriptions.map((subscription) => subscription.ready));
    expect(hub.stats()).toEqual({ feeds: 2, upstreams: 2, listeners: 3 });
    expect((await proxy.openStreams()) - before).toBe(2);
    await redis.publish(channel, "one");
    await redis.publish("relay:{x}:live", "never delivered: the relay's namespace");
    await until(() => received.every((messages) => messages.length === 1));
    expect(received).toEqual([["-:one"], ["-:one"], [`${channel}*:one`]]);
    for (const subscription of subscriptions) subscription.close();
    expect(hub.stats().feeds).toBe(2); // lingering
    await untilAsync(async () => hub.stats().feeds === 0 && (await proxy.openStreams()) === before);
    expect(failures).toEqual([]);
  });

  it("raw: a lost upstream fails its listeners (raw is live only), and the next subscriber opens a fresh one", async () => {
    const channel = uniqueChannel("raw-lost");
    const failures: Error[] = [];
    const first = hub.subscribeRaw({ channel }, { deliver: () => {}, fail: (error) => failures.push(error) });
    await first.ready;
    await proxy.stop("SIGKILL");
    await proxy.start();
    await until(() => failures.length === 1);
    first.close();
    const received: string[] = [];
    const second = hub.subscribeRaw(
      { channel },
      { deliver: (message) => received.push(message.data), fail: () => {} },
    );
    await second.ready;
    await redis.publish(channel, "after");
    await until(() => received.length === 1);
    second.close();
  });
});
