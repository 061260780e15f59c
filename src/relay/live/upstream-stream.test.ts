import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyProcess, startProxyProcess } from "../../../test/helpers/proxy-process.ts";
import { type RedisServer, startRedisServer } from "../../../test/helpers/redis-server.ts";
import { until, untilAsync } from "../../../test/helpers/until.ts";
import {
  encodeStreamName,
  openUpstreamStream,
  parseStreamLine,
  type UpstreamKind,
  type UpstreamMessage,
} from "./upstream-stream.ts";

/** Against a real redis-server and the proxy as a child process, which the tests kill and restart. */
describe("openUpstreamStream", () => {
  let server: RedisServer;
  let proxy: ProxyProcess;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startProxyProcess(server.url);
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await proxy?.stop("SIGKILL");
    await server?.stop();
  });

  function open(kind: UpstreamKind, name: string, token = proxy.token) {
    const messages: UpstreamMessage[] = [];
    let confirmations = 0;
    let ended: Error | undefined;
    const stream = openUpstreamStream({ url: proxy.url, token }, kind, name, {
      onConfirmed: () => {
        confirmations += 1;
      },
      onMessage: (message) => messages.push(message),
      onEnd: (error) => {
        ended = error;
      },
    });
    return {
      stream,
      messages,
      confirmations: () => confirmations,
      ended: () => ended,
    };
  }

  it("confirms, then delivers messages and pattern messages with names that need encoding, commas kept", async () => {
    const channel = open("channel", "relay:{a.b}:live");
    const pattern = open("pattern", "relay:{q?[xy]*}:live");
    try {
      await until(() => channel.confirmations() === 1 && pattern.confirmations() === 1);
      await redis.publish("relay:{a.b}:live", '{"x":1,"y":"a,b"}');
      await redis.publish("relay:{qzx-1}:live", "plain, text");
      await until(() => channel.messages.length === 1 && pattern.messages.length === 1);
      expect(channel.messages).toEqual([{ channel: "relay:{a.b}:live", payload: '{"x":1,"y":"a,b"}' }]);
      expect(pattern.messages).toEqual([
        { pattern: "relay:{q?[xy]*}:live", channel: "relay:{qzx-1}:live", payload: "plain, text" },
      ]);
    } finally {
      channel.stream.close();
      pattern.stream.close();
    }
  });

  it("reports a repeated confirmation when the proxy's Redis subscriber reconnected", async () => {
    const channel = open("channel", "relay:{again}:live");
    try {
      await until(() => channel.confirmations() === 1);
      await redis.call("CLIENT", "KILL", "TYPE", "pubsub");
      await until(() => channel.confirmations() === 2);
      expect(channel.ended()).toBeUndefined();
    } finally {
      channel.stream.close();
    }
  });

  it("reports the end of the stream when the proxy is killed (SIGKILL) or drains (SIGTERM)", async () => {
    for (const signal of ["SIGKILL", "SIGTERM"] as const) {
      const channel = open("channel", "relay:{ending}:live");
      await until(() => channel.confirmations() === 1);
      const stoppedAt = Date.now();
      await proxy.stop(signal);
      await until(() => channel.ended() !== undefined);
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      expect(channel.ended()?.message).toBeTruthy();
      expect(channel.stream.closed).toBe(false);
      await proxy.start();
    }
  });

  it("reports a refused request (bad token) with the endpoint's error text", async () => {
    const channel = open("channel", "relay:{x}:live", "not-the-token");
    await until(() => channel.ended() !== undefined);
    expect(channel.ended()?.message).toMatch(/401/);
    expect(channel.confirmations()).toBe(0);
  });

  it("close() releases the upstream stream and reports nothing", async () => {
    const before = await proxy.openStreams();
    const channel = open("channel", "relay:{closing}:live");
    await until(() => channel.confirmations() === 1);
    expect(await proxy.openStreams()).toBe(before + 1);
    channel.stream.close();
    channel.stream.close();
    await untilAsync(async () => (await proxy.openStreams()) === before);
    expect(channel.ended()).toBeUndefined();
  });
});

describe("parseStreamLine and encodeStreamName", () => {
  it("reads confirmations and messages of each kind; ignores other lines", () => {
    expect(parseStreamLine("channel", "subscribe,c,1")).toEqual({ type: "confirmed" });
    expect(parseStreamLine("pattern", "psubscribe,p*,1")).toEqual({ type: "confirmed" });
    expect(parseStreamLine("channel", "message,c,a,b")).toEqual({
      type: "message",
      message: { channel: "c", payload: "a,b" },
    });
    expect(parseStreamLine("channel", "message,c,")).toEqual({
      type: "message",
      message: { channel: "c", payload: "" },
    });
    expect(parseStreamLine("pattern", "pmessage,p*,pa,x,y")).toEqual({
      type: "message",
      message: { pattern: "p*", channel: "pa", payload: "x,y" },
    });
    expect(parseStreamLine("channel", "unsubscribe,c,0")).toBeNull();
    expect(parseStreamLine("channel", "pmessage,p,c,x")).toBeNull();
    expect(parseStreamLine("channel", "garbage")).toBeNull();
  });
  it("encodes what would change the path's meaning, keeps the rest literal", () => {
    expect(encodeStreamName("relay:{a?b#c/d%e}:live")).toBe("relay:%7Ba%3Fb%23c%2Fd%25e%7D:live");
    expect(encodeStreamName("p[ab]^*")).toBe("p[ab]%5E*");
  });
});
