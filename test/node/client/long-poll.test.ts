import { describe, expect, it } from "vitest";
import { createClient } from "../../../src/client/index.ts";
import { startBufferingProxy } from "./buffering-proxy.ts";
import { token, unique, useRelay } from "./fixture.ts";
import { consume, dataOf } from "./subscribe-helpers.ts";

// A fast heartbeat, so "no heartbeat within two intervals" is quick to reach in a test.
const stack = useRelay({ RELAY_HEARTBEAT_MS: "200" });

describe("long-poll fallback", () => {
  it("behind a proxy that buffers SSE, the subscription switches to long-poll and still delivers in order", async () => {
    const proxy = await startBufferingProxy(stack.relay.url);
    try {
      const channel = unique("buffered");
      const before = await stack.client.publish(channel, 0);
      const through = createClient({ url: proxy.url, token: await token("admin") });
      const run = consume(through, channel, 4, { after: before.id, heartbeatMs: 200 });
      await stack.client.publish(channel, 1);
      await run.live;
      await stack.client.publish(channel, 2);
      await stack.client.publish(channel, { n: 3 });
      await stack.client.publish(channel, "four");
      expect(dataOf(await run.events)).toEqual([1, 2, { n: 3 }, "four"]);
      expect(run.statuses.map((status) => status.state)).toContain("long-poll");
      expect(proxy.paths).toContain(`/v1/channels/${channel}/messages`);
    } finally {
      await proxy.close();
    }
  });

  it("a live stream with heartbeats never falls back, even when idle for several intervals", async () => {
    const channel = unique("idle");
    const run = consume(stack.client, channel, 1, { heartbeatMs: 200 });
    await run.live;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await stack.client.publish(channel, "still streaming");
    expect(dataOf(await run.events)).toEqual(["still streaming"]);
    expect(run.statuses.map((status) => status.state)).toEqual(["connecting", "open"]);
  });

  it("transport: 'long-poll' polls from the start and resumes after `after`", async () => {
    const channel = unique("polled");
    const first = await stack.client.publish(channel, "first");
    const run = consume(stack.client, channel, 2, { transport: "long-poll", after: first.id });
    await stack.client.publish(channel, "second");
    await stack.client.publish(channel, "third");
    expect(dataOf(await run.events)).toEqual(["second", "third"]);
  });
});
