import assert from "node:assert/strict";
import type { Redis as NodeRedis } from "@upstash/redis";
import { describe, inject, it } from "vitest";
import { createApp } from "../../src/relay/app.ts";
import { parseConfig } from "../../src/relay/config.ts";
import { createRelayRedis, type RedisCallCounter } from "../../src/relay/redis/client.ts";
import { TEST_JWT_SECRET } from "../helpers/constants.ts";
import { authed, expectJson, expectProblem, jsonInit, redisCalls } from "../scenarios/assertions.ts";
import { mintToken, type RelayTarget, uniqueName } from "../scenarios/harness.ts";
import { publish } from "../scenarios/sse.ts";
import { eventually, openSse, readSse } from "../scenarios/sse-stream.ts";
import { directRedis } from "./target.ts";

/**
 * What needs short timings or a look inside: the relay built with createApp inside workerd with its own
 * RELAY_* settings, and every request's Redis call counter (one call = one Workers subrequest; Miniflare does
 * not enforce the budget, so these tests do).
 */
function relayWith(vars: Record<string, string>) {
  const counters: RedisCallCounter[] = [];
  const config = parseConfig({
    UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
    UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
    RELAY_JWT_SECRET: TEST_JWT_SECRET,
    ...vars,
  });
  const app = createApp({
    config,
    createRedis(relayConfig, options) {
      if (options.counter) counters.push(options.counter);
      return createRelayRedis(relayConfig, options);
    },
  });
  const target: RelayTarget = {
    runtime: "workers",
    fetch: async (path, init) => app.fetch(new Request(new URL(path, "http://relay.test"), init)),
    token: (scope, options) => mintToken(TEST_JWT_SECRET, scope, options),
    redis: directRedis() as unknown as NodeRedis,
  };
  /** Opens an SSE stream and returns it with the Redis call counter of that one request. */
  async function openCounted(scope: string, path: string, headers: Record<string, string> = {}) {
    const token = await target.token(scope);
    const index = counters.length;
    const stream = await openSse(target, path, { headers: { ...headers, authorization: `Bearer ${token}` } });
    // The client is built on first use: opening the stream read history with it.
    const counter = counters[index];
    assert.ok(counter && counters.length === index + 1, "opening the stream built exactly one Redis client");
    return { stream, counter };
  }
  return { target, openCounted };
}

describe("sse lifecycle (workerd, custom config)", () => {
  it("heartbeats arrive every RELAY_HEARTBEAT_MS and never touch Redis", async () => {
    const { openCounted } = relayWith({ RELAY_HEARTBEAT_MS: "100" });
    const channel = uniqueName("hb");
    const { stream, counter } = await openCounted(`subscribe:${channel}`, `/v1/channels/${channel}/events`);
    try {
      const atHeaders = redisCalls(stream.response);
      await eventually(
        async () => stream.comments.filter((c) => c === "keepalive").length >= 5,
        "5 keepalives",
      );
      assert.equal(counter.count, atHeaders, "no Redis call after the headers, however many heartbeats");
    } finally {
      await stream.close();
    }
  });

  it("after RELAY_SSE_MAX_MS the stream sends retry: and closes; resuming loses nothing; the Redis budget stays flat", async () => {
    const { target, openCounted } = relayWith({ RELAY_HEARTBEAT_MS: "100", RELAY_SSE_MAX_MS: "2000" });
    const prefix = uniqueName("rot");
    const channels = [`${prefix}.a`, `${prefix}.b`, `${prefix}.c`];
    const query = channels.map((channel) => `channel=${channel}`).join("&");
    const { stream, counter } = await openCounted(`subscribe:${prefix}.*`, `/v1/events?${query}`);
    const atHeaders = redisCalls(stream.response);
    assert.ok(
      atHeaders <= channels.length + 2,
      `${channels.length} streams + the position read, got ${atHeaders}`,
    );
    const sent: string[] = [];
    try {
      for (let i = 0; i < 10; i++) sent.push(await publish(target, channels[i % 3] as string, { i }));
      const received = await stream.take(10);
      assert.deepEqual(
        received.map((event) => (JSON.parse(event.data) as { id: string }).id),
        sent,
      );
      await stream.ended(30_000);
      assert.equal(stream.retry, 1000, "rotation tells EventSource to come back soon");
      assert.equal(
        counter.count,
        atHeaders,
        "live messages and heartbeats cost no Redis call: the budget is per connection",
      );
    } finally {
      await stream.close();
    }
    const missed = await publish(target, channels[1] as string, { missed: true });
    const resumed = await openCounted(`subscribe:${prefix}.*`, `/v1/events?${query}`, {
      "last-event-id": stream.lastEventId as string,
    });
    try {
      const next = await resumed.stream.next();
      assert.equal(
        (JSON.parse(next.data) as { id: string }).id,
        missed,
        "the message published during the rotation comes first",
      );
    } finally {
      await resumed.stream.close();
    }
  });

  it("a consumer that stops reading is cut once its backlog passes RELAY_SSE_MAX_BACKLOG, and its subscription is released", async () => {
    const { target } = relayWith({ RELAY_SSE_MAX_BACKLOG: "5", RELAY_HEARTBEAT_MS: "60000" });
    const channel = uniqueName("slow");
    const token = await target.token(`subscribe:${channel}`);
    const response = await target.fetch(`/v1/channels/${channel}/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 200);
    const live = `relay:{${channel}}:live`;
    const numsub = async () =>
      Number(((await target.redis.exec(["PUBSUB", "NUMSUB", live])) as unknown[])[1]);
    assert.equal(await numsub(), 1);
    // Nobody reads the body: the relay's writes block on backpressure while messages keep coming.
    const big = "x".repeat(4096);
    for (let round = 0; round < 10 && (await numsub()) > 0; round++) {
      const body = { messages: Array.from({ length: 10 }, (_, i) => ({ channel, data: { round, i, big } })) };
      await expectJson(
        await authed(target, `publish:${channel}`, "/v1/publish", jsonInit("POST", body)),
        201,
      );
    }
    await eventually(async () => (await numsub()) === 0, "the slow consumer's subscription to be released");
    // What the client does get is a prefix of the messages, then the end: it resumes from its last id.
    const stream = readSse(response);
    await stream.ended();
    assert.ok(stream.pending().length < 100, "the stream was cut before the backlog was delivered");
  });

  it("when Redis cannot be reached, SSE and long-poll answer 503 problems before any stream starts", async () => {
    const { target } = relayWith({ UPSTASH_REDIS_REST_TOKEN: "not-the-proxy-token" });
    const channel = uniqueName("down");
    const sse = await authed(target, `subscribe:${channel}`, `/v1/channels/${channel}/events`);
    const problem = await expectProblem(sse, 503, "redis_unavailable");
    assert.match(problem.detail, /live feed|Redis/);
    const raw = await authed(target, `subscribe:${channel}`, `/v1/events?channel=${channel}&raw=1`);
    await expectProblem(raw, 503, "redis_unavailable");
    const poll = await authed(target, `subscribe:${channel}`, `/v1/channels/${channel}/messages?wait=5`);
    assert.equal(poll.status, 503, await poll.clone().text());
    await poll.body?.cancel();
  });
});
