import { describe, expect, it } from "vitest";
import { createClient, RelayError } from "../../../src/client/index.ts";
import { startCuttableLink } from "../browser/cuttable-link.ts";
import { startRelay, token, unique, useRelay } from "./fixture.ts";
import { tapEventStreams } from "./stream-tap.ts";
import { consume, dataOf } from "./subscribe-helpers.ts";

const stack = useRelay();

describe("client subscribe over SSE", () => {
  it("delivers messages published after it is live, in order, as typed events", async () => {
    const channel = unique("live");
    const run = consume(stack.client, channel, 3);
    await run.live;
    await stack.client.publish(channel, { n: 1 });
    await stack.client.publish(channel, "two", { event: "note" });
    await stack.client.publish(channel, [3]);
    const events = await run.events;
    expect(events.map((event) => event.type)).toEqual(["message", "message", "message"]);
    expect(dataOf(events)).toEqual([{ n: 1 }, "two", [3]]);
    expect(events[1]).toMatchObject({ type: "message", channel, event: "note" });
  });

  it("resumes after a cursor given as `after`: nothing before it, everything after it", async () => {
    const channel = unique("resume");
    const ids = [];
    for (let n = 0; n < 5; n++) ids.push((await stack.client.publish(channel, n)).id);
    const events = await consume(stack.client, channel, 3, { after: ids[1] }).events;
    expect(dataOf(events)).toEqual([2, 3, 4]);
    expect(events.map((event) => (event.type === "message" ? event.id : ""))).toEqual(ids.slice(2));
  });

  it("a burst of 1000 with the connection cut in the middle: every message exactly once, in order", async () => {
    const channel = unique("burst");
    const link = await startCuttableLink({ host: stack.relay.host, port: stack.relay.port });
    try {
      const through = createClient({ url: link.url, token: await token(`subscribe:${channel}`) });
      let cutAt = -1;
      const run = consume(through, channel, 1000, {
        backoff: { initialMs: 50, maxMs: 500 },
        onEvent: (_event, index) => {
          if (index === 299) {
            cutAt = index;
            link.cut();
            setTimeout(() => link.restore(), 300);
          }
        },
      });
      await run.live;
      for (let batch = 0; batch < 10; batch++) {
        await stack.client.publishMany(
          Array.from({ length: 100 }, (_, i) => ({ channel, data: batch * 100 + i })),
        );
      }
      const events = await run.events;
      expect(cutAt).toBe(299);
      expect(link.connections).toBeGreaterThanOrEqual(2);
      expect(run.statuses.some((status) => status.state === "reconnecting")).toBe(true);
      expect(dataOf(events)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      expect(new Set(events.map((event) => (event.type === "message" ? event.id : ""))).size).toBe(1000);
    } finally {
      await link.close();
    }
  });

  it("a drop before any message resumes from the id-only position frame: messages published meanwhile arrive once", async () => {
    const channel = unique("position");
    const link = await startCuttableLink({ host: stack.relay.host, port: stack.relay.port });
    try {
      const tap = tapEventStreams();
      const through = createClient({
        url: link.url,
        token: await token(`subscribe:${channel}`),
        fetch: tap.fetch,
      });
      const run = consume(through, channel, 4, {
        backoff: { initialMs: 50, maxMs: 500 },
        // Without the position, the reconnect starts from "now": only the sentinel arrives, and this ends it.
        onEvent: (event) => {
          if (event.type === "message" && event.data === "after") run.stop();
        },
      });
      // No cursor, no history: the stream's only frame is `id: <position>` with no data. Wait until the client
      // has read it (it asks for the next chunk), then cut the connection before any message.
      await tap.consumed((text) => /(?:^|\n)id: [^\n]+\n\n/.test(text));
      link.cut();
      for (const n of [1, 2, 3]) await stack.client.publish(channel, n);
      link.restore();
      await until(() => run.statuses.filter((status) => status.state === "open").length >= 2);
      await stack.client.publish(channel, "after");
      const events = await run.events;
      expect(link.connections).toBeGreaterThanOrEqual(2);
      expect(dataOf(events)).toEqual([1, 2, 3, "after"]);
      expect(new Set(events.map((event) => (event.type === "message" ? event.id : ""))).size).toBe(4);
    } finally {
      await link.close();
    }
  });

  it("follows patterns and several channels over one stream", async () => {
    const prefix = unique("sensors");
    const other = unique("orders");
    const run = consume(stack.client, [other], 3, { patterns: [`${prefix}.*`] });
    await run.live;
    await stack.client.publish(`${prefix}.kitchen`, 21);
    await stack.client.publish(other, "order");
    await stack.client.publish(`${prefix}.hall`, 19);
    const events = await run.events;
    expect(events.map((event) => [event.channel, event.type === "message" ? event.data : null])).toEqual([
      [`${prefix}.kitchen`, 21],
      [other, "order"],
      [`${prefix}.hall`, 19],
    ]);
  });

  it("surfaces a lost position as a typed reset event, then continues from the oldest message", async () => {
    const channel = unique("reset");
    const old = await stack.client.publish(channel, "old");
    await stack.client.channels.deleteHistory(channel);
    await stack.client.publish(channel, "new");
    const events = await consume(stack.client, channel, 2, { after: old.id }).events;
    expect(events[0]).toMatchObject({ type: "reset", channel });
    expect(["deleted", "epoch", "trimmed", "unknown"]).toContain(
      events[0]?.type === "reset" ? events[0].reason : "",
    );
    expect(events[1]).toMatchObject({ type: "message", data: "new" });
  });

  it("asks getToken again on every reconnect (the relay closes streams at RELAY_SSE_MAX_MS)", async () => {
    const short = await startRelay({ RELAY_SSE_MAX_MS: "1000" });
    try {
      const channel = unique("rotate");
      let calls = 0;
      const rotating = createClient({
        url: short.url,
        getToken: () => {
          calls++;
          return token(`subscribe:${channel}`);
        },
      });
      const run = consume(rotating, channel, 4);
      await run.live;
      await stack.client.publish(channel, 1);
      // Wait through at least one planned close and reconnect before publishing the rest.
      while (calls < 2) await new Promise((resolve) => setTimeout(resolve, 50));
      for (const n of [2, 3, 4]) await stack.client.publish(channel, n);
      expect(dataOf(await run.events)).toEqual([1, 2, 3, 4]);
      expect(calls).toBeGreaterThanOrEqual(2);
    } finally {
      await short.close();
    }
  });

  it("ends quietly when its signal aborts", async () => {
    const channel = unique("abort");
    const controller = new AbortController();
    const run = consume(stack.client, channel, 10, { signal: controller.signal });
    await run.live;
    await stack.client.publish(channel, 1);
    setTimeout(() => controller.abort(), 100);
    expect(dataOf(await run.events)).toEqual([1]);
  });

  it("throws a typed RelayError, without retrying, when the token is refused or the name is invalid", async () => {
    const anonymous = createClient({ url: stack.relay.url, token: "not-a-jwt" });
    const unauthorised = await consume(anonymous, "orders", 1).events.catch((error: unknown) => error);
    expect(unauthorised).toBeInstanceOf(RelayError);
    expect(unauthorised).toMatchObject({ status: 401 });

    const limited = createClient({ url: stack.relay.url, token: await token("subscribe:allowed") });
    const forbidden = await consume(limited, "not-allowed", 1).events.catch((error: unknown) => error);
    expect(forbidden).toMatchObject({ status: 403, code: "forbidden" });

    const hostile = await consume(stack.client, "bad\r\nname", 1).events.catch((error: unknown) => error);
    expect(hostile).toMatchObject({ status: 400 });
  });

  it("a hostile or malformed `after` fails at once instead of being retried", async () => {
    const headerInjection = await consume(stack.client, "orders", 1, {
      after: "x\r\nX-Evil: 1",
    }).events.catch((error: unknown) => error);
    expect(headerInjection).toBeInstanceOf(TypeError);
    const garbage = await consume(stack.client, "orders", 1, { after: "not-a-cursor" }).events.catch(
      (error: unknown) => error,
    );
    expect(garbage).toMatchObject({ status: 400, code: "invalid_cursor" });
  });

  it("refuses to start without any channel or pattern", async () => {
    await expect(consume(stack.client, [], 1).events).rejects.toThrow(TypeError);
  });
});

/** Polls `condition` every 20 ms until it holds (the test's own timeout bounds the wait). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}
