import type { Redis } from "ioredis";

export interface RoundTrip {
  label: string;
  /** Sequential round-trip times in ms, after a warm-up. */
  samples: number[];
}

const WARMUP = 20;

async function sample(label: string, count: number, once: () => Promise<void>): Promise<RoundTrip> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + count; i++) {
    const start = performance.now();
    await once();
    if (i >= WARMUP) samples.push(performance.now() - start);
  }
  return { label, samples };
}

async function request(url: string, init: RequestInit, expected: number): Promise<void> {
  const response = await fetch(url, init);
  const body = await response.text();
  if (response.status !== expected)
    throw new Error(
      `${init.method ?? "GET"} ${url} answered ${response.status}, expected ${expected}: ${body.slice(0, 300)}`,
    );
}

/**
 * Where a publish→delivery's time goes: the HTTP floor of `wrangler dev` (a route that touches no Redis),
 * one Redis PING through the relay and the proxy (/healthz), a publish, next to a PING over TCP.
 */
export async function measureRoundTrips(
  relayUrl: string,
  authorization: string,
  direct: Redis,
  channel: string,
  count: number,
): Promise<RoundTrip[]> {
  let seq = 0;
  return [
    await sample("direct Redis PING (TCP)", count, async () => {
      await direct.ping();
    }),
    await sample("relay HTTP floor (unrouted path, 404, no Redis)", count, () =>
      request(`${relayUrl}/bench-no-such-route`, {}, 404),
    ),
    await sample("relay GET /healthz (one PING via the proxy)", count, () =>
      request(`${relayUrl}/healthz`, {}, 200),
    ),
    await sample("relay publish (POST, one Lua script via the proxy)", count, () =>
      request(
        `${relayUrl}/v1/channels/${encodeURIComponent(channel)}/messages`,
        {
          method: "POST",
          headers: { Authorization: authorization, "Content-Type": "application/json" },
          body: JSON.stringify({ probe: seq++ }),
        },
        201,
      ),
    ),
  ];
}
