import { markdownTable } from "../lib/table.ts";
import type { OpenLoopResult } from "./open-loop.ts";
import { type OpenLoopOutcome, TAP_PROXY, TAP_REDIS } from "./open-loop-suite.ts";
import { ms } from "./report-cells.ts";
import type { RoundTrip } from "./round-trips.ts";
import { fixed, percentile, ratio } from "./stats.ts";

/** Sequential round trips: the floor under every figure of one message's path. */
export function roundTripSection(roundTrips: readonly RoundTrip[]): string {
  const ping = roundTrips.find((trip) => trip.runtime === "")?.samples ?? [];
  return `### Round trips (sequential requests)\n\n${markdownTable(
    ["runtime", "request", "p50 ms", "p99 ms", "p50 vs direct PING"],
    roundTrips.map((trip) => [
      trip.runtime || "–",
      trip.label,
      ms(trip.samples, 50),
      ms(trip.samples, 99),
      ratio(percentile(trip.samples, 50), percentile(ping, 50)),
    ]),
  )}`;
}

const pair = (samples: readonly number[] | undefined) =>
  samples && samples.length > 0 ? `${ms(samples, 50)} / ${ms(samples, 99)}` : "–";

/**
 * Each leg of one message, from the one-subscriber open-loop scenario: a plain Redis subscriber on the channel's
 * raw mirror marks when Redis emitted it, a subscriber on the proxy's own subscribe stream when the proxy passed
 * it on; the relay's subscriber, when it arrived. The relay's own part of delivery is the difference of the last
 * two; its part of the publish is the publish leg minus the proxy's own PUBLISH round trip.
 */
export function legsSection(outcome: OpenLoopOutcome, roundTrips: readonly RoundTrip[] | undefined): string {
  const proxyPublish = roundTrips?.find((trip) => trip.label.startsWith("proxy's own PUBLISH"))?.samples;
  const rows = [endToEndRow(outcome.direct)];
  for (const { floor, relay } of outcome.runtimes) {
    rows.push(endToEndRow(floor));
    const toRedis = relay.legs[TAP_REDIS];
    const toProxy = relay.legs[TAP_PROXY];
    // Redis → proxy subscriber, per message: the proxy tap's moment minus the Redis tap's.
    const redisToProxy = toProxy?.fromPrevious ?? [];
    const relayShare = percentile(toRedis?.pointToReceipt ?? [], 50) - percentile(redisToProxy, 50);
    const publishShare =
      proxyPublish && toRedis
        ? percentile(toRedis.publishToPoint, 50) - percentile(proxyPublish, 50) / 2
        : Number.NaN;
    rows.push([
      relay.label,
      pair(relay.latencies),
      pair(relay.publishMs),
      pair(toRedis?.publishToPoint),
      fixed(publishShare),
      pair(redisToProxy),
      pair(toRedis?.pointToReceipt),
      fixed(relayShare),
    ]);
  }
  return (
    `### Where one message's time goes (1 subscriber, ${outcome.scenario.plan.rate} msg/s, open loop; p50 / p99 ms)\n\n` +
    "`client → relay → proxy → Redis`: due send → a plain Redis subscriber on the raw mirror has it. " +
    "`Redis → proxy → client`: the proxy's own subscribe stream, read by the benchmark (no relay). " +
    "`Redis → proxy → relay → client`: the relay's SSE subscriber. `relay's part` columns are p50 differences: " +
    "the publish leg minus half the proxy's own PUBLISH round trip (its way in), and relay delivery minus the " +
    "proxy's own delivery; estimates, not separate measurements.\n\n" +
    markdownTable(
      [
        "path",
        "end to end",
        "publish request",
        "client → relay → proxy → Redis",
        "relay's part of publish p50",
        "Redis → proxy → client",
        "Redis → proxy → relay → client",
        "relay's part of delivery p50",
      ],
      rows,
    )
  );
}

function endToEndRow(result: OpenLoopResult): string[] {
  return [result.label, pair(result.latencies), pair(result.publishMs), "–", "–", "–", "–", "–"];
}
