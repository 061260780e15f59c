import type { Redis } from "ioredis";
import type { RuntimeUnderTest } from "./runtimes.ts";

export interface RoundTrip {
  /** "" for the rows every runtime shares (direct Redis, the proxy's own PUBLISH). */
  runtime: string;
  label: string;
  /** Sequential round-trip times in ms, after a warm-up. */
  samples: number[];
}

const WARMUP = 20;

async function sample(
  runtime: string,
  label: string,
  count: number,
  once: () => Promise<void>,
): Promise<RoundTrip> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + count; i++) {
    const start = performance.now();
    await once();
    if (i >= WARMUP) samples.push(performance.now() - start);
  }
  return { runtime, label, samples };
}

async function request(url: string, init: RequestInit, expected: number): Promise<void> {
  const response = await fetch(url, init);
  const body = await response.text();
  if (response.status !== expected)
    throw new Error(
      `${init.method ?? "GET"} ${url} answered ${response.status}, expected ${expected}: ${body.slice(0, 300)}`,
    );
}

export interface RoundTripContext {
  runtimes: readonly RuntimeUnderTest[];
  authorization: string;
  direct: Redis;
  proxyUrl: string;
  proxyToken: string;
  channel: string;
  count: number;
}

/**
 * Sequential round trips, the floor under every figure of one message's path: a PING over TCP and the proxy's
 * own PUBLISH over HTTP (shared by every runtime), then per runtime its bare HTTP answer (the fan-out floor's
 * /ready), the relay's 404 (routing and middleware, no Redis), /healthz (one PING through the proxy) and a publish.
 */
export async function measureRoundTrips(context: RoundTripContext): Promise<RoundTrip[]> {
  const { count, channel, authorization } = context;
  let seq = 0;
  const trips = [
    await sample("", "direct Redis PING (TCP)", count, async () => {
      await context.direct.ping();
    }),
    await sample("", "proxy's own PUBLISH (HTTP, Upstash REST)", count, () =>
      request(
        context.proxyUrl,
        {
          method: "POST",
          headers: { Authorization: `Bearer ${context.proxyToken}`, "Content-Type": "application/json" },
          body: JSON.stringify(["PUBLISH", channel, JSON.stringify({ probe: seq++ })]),
        },
        200,
      ),
    ),
  ];
  for (const runtime of context.runtimes) {
    const relay = runtime.relay.url;
    trips.push(
      await sample(runtime.label, "bare HTTP answer (the floor's /ready)", count, () =>
        request(`${runtime.floor.url}/ready`, {}, 200),
      ),
      await sample(runtime.label, "relay 404 (unrouted path, no Redis)", count, () =>
        request(`${relay}/bench-no-such-route`, {}, 404),
      ),
      await sample(runtime.label, "relay GET /healthz (one PING via the proxy)", count, () =>
        request(`${relay}/healthz`, {}, 200),
      ),
      await sample(runtime.label, "relay publish (POST, one Lua script via the proxy)", count, () =>
        request(
          `${relay}/v1/channels/${encodeURIComponent(channel)}/messages`,
          {
            method: "POST",
            headers: { Authorization: authorization, "Content-Type": "application/json" },
            body: JSON.stringify({ probe: seq++ }),
          },
          201,
        ),
      ),
    );
  }
  return trips;
}
