import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createClient, type FetchLike, RelayError, type SubscriptionEvent } from "../../src/client/index.ts";
import { TEST_JWT_SECRET } from "../helpers/constants.ts";
import { tapEventStreams } from "../node/client/stream-tap.ts";
import { mintToken, uniqueName } from "../scenarios/harness.ts";

/** The client inside workerd, talking to the relay as Workers runs it (a service-binding style fetch). */
const relayFetch: FetchLike = (request) => exports.default.fetch(request);
const BASE = "http://relay.test";

async function admin() {
  return createClient({ url: BASE, token: await mintToken(TEST_JWT_SECRET, "admin"), fetch: relayFetch });
}

/**
 * A fetch whose SSE responses the test can cut mid-stream: the body errors as on a network drop (the relay
 * itself stays untouched and sees its client go away). While `down`, new streams fail as unreachable.
 */
function cuttableFetch() {
  let cutCurrent: (() => void) | undefined;
  let streams = 0;
  let down = false;
  const fetch: FetchLike = async (request) => {
    if (down && new URL(request.url).pathname.endsWith("/events")) throw new TypeError("network is down");
    const response = await relayFetch(request);
    if (!new URL(request.url).pathname.endsWith("/events") || !response.body) return response;
    streams++;
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        cutCurrent = () => {
          controller.error(new TypeError("connection cut by the test"));
          reader.cancel().catch(() => {});
        };
      },
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch {
          // Cut while a read was pending: the stream is already errored.
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, response);
  };
  return {
    fetch,
    cut: () => cutCurrent?.(),
    setDown: (value: boolean) => {
      down = value;
    },
    get streams() {
      return streams;
    },
  };
}

async function take(
  events: AsyncIterable<SubscriptionEvent>,
  count: number,
  onEach?: (index: number) => void,
) {
  const received: SubscriptionEvent[] = [];
  for await (const event of events) {
    received.push(event);
    onEach?.(received.length - 1);
    if (received.length >= count) break;
  }
  return received;
}

describe("client SDK inside workerd", () => {
  it("kv round trip with ETags and a typed 412", async () => {
    const client = await admin();
    const key = uniqueName("wkv");
    const written = await client.kv.set(key, { a: 1 });
    expect(await client.kv.get(key)).toMatchObject({ value: { a: 1 }, etag: written.etag });
    const error = await client.kv.set(key, 2, { ifNoneMatch: "*" }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({ status: 412, code: "precondition_failed" });
  });

  it("publish, history and resume with `after`", async () => {
    const client = await admin();
    const channel = uniqueName("wpub");
    const first = await client.publish(channel, "one");
    await client.publish(channel, { two: 2 });
    expect((await client.history(channel)).messages.map((message) => message.data)).toEqual([
      "one",
      { two: 2 },
    ]);
    const resumed = await take(client.subscribe(channel, { after: first.id }), 1);
    expect(resumed[0]).toMatchObject({ type: "message", data: { two: 2 } });
  });

  it("a burst of 1000 with the stream cut in the middle: every message exactly once, in order", async () => {
    const channel = uniqueName("wburst");
    const link = cuttableFetch();
    const subscriber = createClient({
      url: BASE,
      token: await mintToken(TEST_JWT_SECRET, `subscribe:${channel}`),
      fetch: link.fetch,
    });
    let markLive = () => {};
    const live = new Promise<void>((resolve) => {
      markLive = resolve;
    });
    const received = take(
      subscriber.subscribe(channel, {
        backoff: { initialMs: 20, maxMs: 200 },
        onStatus: (status) => {
          if (status.state === "open") markLive();
        },
      }),
      1000,
      (index) => {
        if (index === 399) link.cut();
      },
    );
    await live;
    const publisher = await admin();
    for (let batch = 0; batch < 10; batch++) {
      await publisher.publishMany(
        Array.from({ length: 100 }, (_, i) => ({ channel, data: batch * 100 + i })),
      );
    }
    const events = await received;
    expect(link.streams).toBeGreaterThanOrEqual(2);
    expect(events.map((event) => (event.type === "message" ? event.data : event))).toEqual(
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });

  it("a drop before any message resumes from the id-only position frame: messages published meanwhile arrive once", async () => {
    const channel = uniqueName("wposition");
    const link = cuttableFetch();
    const tap = tapEventStreams(link.fetch);
    const subscriber = createClient({
      url: BASE,
      token: await mintToken(TEST_JWT_SECRET, `subscribe:${channel}`),
      fetch: tap.fetch,
    });
    const controller = new AbortController();
    let opens = 0;
    const received = (async () => {
      const events: SubscriptionEvent[] = [];
      const subscription = subscriber.subscribe(channel, {
        signal: controller.signal,
        backoff: { initialMs: 20, maxMs: 200 },
        onStatus: (status) => {
          if (status.state === "open") opens++;
        },
      });
      for await (const event of subscription) {
        events.push(event);
        // Without the position, the reconnect starts from "now": only the sentinel arrives, and this ends it.
        if (events.length >= 4 || (event.type === "message" && event.data === "after")) break;
      }
      return events;
    })();
    // No cursor, no history: the stream's only frame is `id: <position>`. Cut once the client has read it.
    await tap.consumed((text) => /(?:^|\n)id: [^\n]+\n\n/.test(text));
    link.setDown(true);
    link.cut();
    const publisher = await admin();
    for (const n of [1, 2, 3]) await publisher.publish(channel, n);
    link.setDown(false);
    while (opens < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    await publisher.publish(channel, "after");
    const events = await received;
    expect(link.streams).toBeGreaterThanOrEqual(2);
    expect(events.map((event) => (event.type === "message" ? event.data : event))).toEqual([
      1,
      2,
      3,
      "after",
    ]);
  });
});
