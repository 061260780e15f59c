import { markdownTable } from "../lib/table.ts";
import type { LongPollOutcome } from "./long-poll-suite.ts";
import { checkCells, ms } from "./report-cells.ts";
import { fixed, ratio } from "./stats.ts";

export function longPollSection(outcome: LongPollOutcome): string {
  const { plan, direct } = outcome;
  const rows = [direct, ...outcome.runtimes.map((entry) => entry.relay)].map((result, index) => [
    index === 0 ? result.target : `relay on ${outcome.runtimes[index - 1]?.label}`,
    String(result.requests),
    fixed(result.requestsPerSecond, 0),
    ratio(result.requestsPerSecond, direct.requestsPerSecond),
    ms(result.latencies, 50),
    ms(result.latencies, 99),
    ...checkCells(result.check),
    String(result.gaps),
  ]);
  for (const { label, relay, noRedisRoute } of outcome.runtimes) {
    if (!noRedisRoute) continue;
    rows.push([
      `${plan.loops} loops on the relay's 404 (${label}, no Redis, no auth)`,
      "–",
      fixed(noRedisRoute.requestsPerSecond, 0),
      ratio(noRedisRoute.requestsPerSecond, direct.requestsPerSecond),
      fixed(noRedisRoute.p50),
      fixed(noRedisRoute.p99),
      "–",
      "–",
      "–",
      `relay long-poll = ${ratio(relay.requestsPerSecond, noRedisRoute.requestsPerSecond)} of it`,
    ]);
  }
  return (
    `### Long-poll (${plan.loops} concurrent loops, wait=${plan.waitSeconds}s, ${plan.messages} messages published back to back)\n\n` +
    "Relay: `GET /v1/channels/:ch/messages?after=<cursor>&wait=` loops. Direct: `XREAD BLOCK` loops, one " +
    "connection each. The 404 row's p50/p99 are request round trips, not delivery latencies.\n\n" +
    markdownTable(
      [
        "path",
        "requests",
        "requests/s",
        "vs direct",
        "p50 ms",
        "p99 ms",
        "lost",
        "dup",
        "out of order",
        "gaps",
      ],
      rows,
    ) +
    "\n\n" +
    outcome.runtimes
      .map(
        ({ label, relay, redisRequests, cpu }) =>
          `Relay on ${label}: ${redisRequests} Redis requests at the proxy for ${relay.requests} polls and ` +
          `${plan.messages} publishes (${fixed(redisRequests / Math.max(1, relay.requests), 2)} per poll); CPU per ` +
          `poll: ${Object.entries(cpu)
            .map(
              ([name, seconds]) => `${name} ${fixed((seconds * 1000) / Math.max(1, relay.requests), 2)} ms`,
            )
            .join(", ")}.`,
      )
      .join("\n")
  );
}
