import { describe, expect, it } from "vitest";
import { createClient } from "../../../src/client/index.ts";
import { HEARTBEAT_HEADER } from "../../../src/protocol/stream-headers.ts";
import { token, unique, useRelay } from "./fixture.ts";
import { tapEventStreams } from "./stream-tap.ts";
import { consume, dataOf } from "./subscribe-helpers.ts";

/** Longer than the SDK's old fixed guess allowed (2 × 15 s of silence): a client that guessed would reconnect. */
const SLOW_HEARTBEAT_MS = 60_000;
/** Silence the test sits through: past the 30 s a guessing client tolerates, well short of the relay's heartbeat. */
const SILENCE_MS = 35_000;

// Its own file: the long wait runs beside the other client tests, not after them.
const stack = useRelay({ RELAY_HEARTBEAT_MS: String(SLOW_HEARTBEAT_MS) });

describe("the relay announces its heartbeat and the SDK uses it", () => {
  it("every SSE response says Relay-Heartbeat-Ms, and cross-origin browser code may read it", async () => {
    const response = await fetch(`${stack.relay.url}/v1/channels/${unique("hb")}/events`, {
      headers: { authorization: `Bearer ${await token("admin")}`, origin: "https://app.example" },
    });
    try {
      expect(response.status).toBe(200);
      expect(response.headers.get(HEARTBEAT_HEADER)).toBe(String(SLOW_HEARTBEAT_MS));
      expect(response.headers.get("access-control-expose-headers") ?? "").toMatch(/relay-heartbeat-ms/i);
    } finally {
      await response.body?.cancel();
    }
  });

  it(
    "a relay with a 60 s heartbeat: the SDK sits through 35 s of silence on one connection, no reconnect, no fallback",
    async () => {
      const channel = unique("slow-heartbeat");
      const tap = tapEventStreams();
      const client = createClient({
        url: stack.relay.url,
        token: await token(`subscribe:${channel}`),
        fetch: tap.fetch,
      });
      const run = consume(client, channel, 1);
      await run.live;
      await new Promise((resolve) => setTimeout(resolve, SILENCE_MS));
      await stack.client.publish(channel, "still here");
      expect(dataOf(await run.events)).toEqual(["still here"]);
      expect(tap.headers.map((headers) => headers.get(HEARTBEAT_HEADER))).toEqual([
        String(SLOW_HEARTBEAT_MS),
      ]);
      expect(run.statuses.map((status) => status.state)).toEqual(["connecting", "open"]);
    },
    SILENCE_MS + 30_000,
  );

  it("an explicit heartbeatMs wins over the announced one", async () => {
    const channel = unique("explicit-heartbeat");
    const client = createClient({ url: stack.relay.url, token: await token(`subscribe:${channel}`) });
    const run = consume(client, channel, 1, {
      heartbeatMs: 300,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    // The relay stays silent for 60 s; with 300 ms the client gives the connection up after 600 ms.
    while (!run.statuses.some((status) => status.state === "reconnecting")) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    run.stop();
    await run.events;
    expect(run.statuses.find((status) => status.state === "reconnecting")).toMatchObject({
      reason: "no heartbeat within 600 ms: connection presumed dead",
    });
    expect(run.statuses.some((status) => status.state === "long-poll")).toBe(false);
  });
});
