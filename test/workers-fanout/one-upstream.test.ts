import { describe, expect, inject, it } from "vitest";
import { scrapeProxyMetrics } from "../../src/proxy/metrics-text.ts";
import { authed, expectJson } from "../scenarios/assertions.ts";
import { uniqueName } from "../scenarios/harness.ts";
import { openSse, type SseStream } from "../scenarios/sse-stream.ts";
import { workersTarget } from "../workers/target.ts";

/**
 * The Durable Object hub in workerd: SSE streams and long-polls through the Worker (src/entry/worker.ts) land in
 * the channel's object, which holds ONE upstream subscribe stream for all of them. Counted on this project's own
 * proxy (`upstash_proxy_open_streams` in its /metrics), so no other test file's streams are in the figure.
 */
const target = workersTarget();

async function openUpstreams(): Promise<number> {
  return (await scrapeProxyMetrics(inject("upstashUrl"))).openStreams;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("Durable Object hub", () => {
  it("100 SSE streams and a long-poll on one channel hold one upstream stream, released after the last closes", async () => {
    expect(target.hub).toBe(true);
    const channel = uniqueName("do-fanout");
    const token = await target.token(`subscribe:${channel} publish:${channel}`);
    const headers = { authorization: `Bearer ${token}` };
    expect(await openUpstreams()).toBe(0);
    const streams: SseStream[] = [];
    try {
      for (let i = 0; i < 100; i++)
        streams.push(await openSse(target, `/v1/channels/${channel}/events`, { headers }));
      expect(await openUpstreams()).toBe(1);

      // A long-poll on the channel waits in the same object, on the same upstream stream.
      const poll = target.fetch(`/v1/channels/${channel}/messages?wait=20`, { headers });
      const sent: string[] = [];
      for (let n = 0; n < 3; n++) {
        const published = await authed(target, `publish:${channel}`, `/v1/channels/${channel}/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ n }),
        });
        sent.push((await expectJson<{ id: string }>(published, 201)).id);
        if (n === 0) {
          const answer = await expectJson<{ messages: Array<{ id: string }> }>(await poll, 200);
          expect(answer.messages.map((message) => message.id)).toEqual([sent[0]]);
        }
      }
      expect(await openUpstreams()).toBe(1);
      for (const stream of streams) expect((await stream.take(3)).map((event) => event.id)).toEqual(sent);
    } finally {
      await Promise.all(streams.map((stream) => stream.close()));
    }
    // Cancelled streams reach the object at its next heartbeat write (RELAY_HEARTBEAT_MS=1000 here), then the
    // feed lingers 2 s (hub/channel-hub.ts) before its upstream closes.
    await until(
      async () => (await openUpstreams()) === 0,
      "the upstream stream released after the last stream",
    );
  }, 120_000);

  it("1000 stream open/close cycles on a channel keep at most one upstream stream and leave none behind", async () => {
    const channel = uniqueName("do-cycles");
    const token = await target.token(`subscribe:${channel}`);
    const headers = { authorization: `Bearer ${token}` };
    for (let round = 0; round < 100; round++) {
      const streams = await Promise.all(
        Array.from({ length: 10 }, () => openSse(target, `/v1/channels/${channel}/events`, { headers })),
      );
      await Promise.all(streams.map((stream) => stream.close()));
      if (round % 10 === 9) expect(await openUpstreams()).toBeLessThanOrEqual(1);
    }
    await until(async () => (await openUpstreams()) === 0, "no upstream stream left after the cycles");
  }, 180_000);

  it("20 streams on the same two channels share one set object: one upstream stream per channel, released after the last", async () => {
    const [a, b] = [uniqueName("do-set-a"), uniqueName("do-set-b")];
    const token = await target.token(`subscribe:${a} subscribe:${b}`);
    const headers = { authorization: `Bearer ${token}` };
    expect(await openUpstreams()).toBe(0);
    const streams: SseStream[] = [];
    try {
      for (let i = 0; i < 20; i++)
        streams.push(await openSse(target, `/v1/events?channel=${a}&channel=${b}`, { headers }));
      // The object per set (docs/sse.md, "Workers: a Durable Object per subscription") follows each member once.
      expect(await openUpstreams()).toBe(2);
      for (const channel of [a, b]) {
        const published = await authed(target, `publish:${channel}`, `/v1/channels/${channel}/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ channel }),
        });
        await expectJson<{ id: string }>(published, 201);
      }
      // Each stream gets both messages, each under a compound cursor with one position per channel.
      for (const stream of streams)
        expect((await stream.take(2)).map((event) => event.id?.split("~").length)).toEqual([2, 2]);
      expect(await openUpstreams()).toBe(2);
    } finally {
      await Promise.all(streams.map((stream) => stream.close()));
    }
    await until(
      async () => (await openUpstreams()) === 0,
      "both upstream streams released after the last stream",
    );
  }, 120_000);

  it("10 streams on the same pattern share one object and one upstream pattern stream, released after the last", async () => {
    const prefix = uniqueName("do-pattern");
    const token = await target.token(`subscribe:${prefix}.*`);
    const headers = { authorization: `Bearer ${token}` };
    expect(await openUpstreams()).toBe(0);
    const streams: SseStream[] = [];
    try {
      for (let i = 0; i < 10; i++)
        streams.push(await openSse(target, `/v1/events?pattern=${prefix}.*`, { headers }));
      expect(await openUpstreams()).toBe(1);
      const channel = `${prefix}.x`;
      const published = await authed(target, `publish:${channel}`, `/v1/channels/${channel}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ channel }),
      });
      await expectJson<{ id: string }>(published, 201);
      for (const stream of streams) expect((await stream.next()).data).toContain(channel);
      expect(await openUpstreams()).toBe(1);
    } finally {
      await Promise.all(streams.map((stream) => stream.close()));
    }
    await until(
      async () => (await openUpstreams()) === 0,
      "the pattern's upstream stream released after the last",
    );
  }, 120_000);
});
