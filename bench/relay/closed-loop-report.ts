import { markdownTable } from "../lib/table.ts";
import { type ClosedLoopPair, DIRECT_BURST_FACTOR } from "./closed-loop-suite.ts";
import { checkCells, ms } from "./report-cells.ts";
import { fixed, percentile, ratio } from "./stats.ts";

/** The closed-loop tables: unloaded latency, burst throughput and CPU, per runtime next to direct Redis. */

export function closedLoopLatencySection(fanouts: readonly ClosedLoopPair[]): string {
  const rows: string[][] = [];
  for (const { relay, direct } of fanouts) {
    for (const result of [direct, relay]) {
      const baseline = result === relay ? direct : result;
      rows.push([
        String(result.subscribers),
        result.target,
        ms(result.latencies, 50),
        ms(result.latencies, 99),
        ratio(percentile(result.latencies, 50), percentile(baseline.latencies, 50)),
        ratio(percentile(result.latencies, 99), percentile(baseline.latencies, 99)),
        result.publishToRedis.length > 0 ? ms(result.publishToRedis, 50) : "–",
        result.redisToReceipt.length > 0
          ? `${ms(result.redisToReceipt, 50)} / ${ms(result.redisToReceipt, 99)}`
          : "–",
        String(result.latencies.length),
        ...checkCells(result.check),
        String(result.reconnects),
        String(result.resets),
        fixed(result.openMs / 1000, 1),
      ]);
    }
  }
  return (
    "### Closed loop: publish → delivery latency (the next publish once every subscriber has the last)\n\n" +
    "Relay: HTTP publish → SSE on every subscriber. Direct: PUBLISH → SUBSCRIBE over TCP, one connection per " +
    "subscriber. The split columns come from a plain Redis subscriber on the channel's raw mirror, which the " +
    "publish script emits together with the live notification.\n\n" +
    markdownTable(
      [
        "subscribers",
        "path",
        "p50 ms",
        "p99 ms",
        "p50 ratio",
        "p99 ratio",
        "publish→Redis p50 ms",
        "Redis→subscriber p50 / p99 ms",
        "samples",
        "lost",
        "dup",
        "out of order",
        "reconnects",
        "resets",
        "open s",
      ],
      rows,
    )
  );
}

export function closedLoopBurstSection(fanouts: readonly ClosedLoopPair[]): string {
  return `### Closed loop: fan-out throughput (batches of 50 published back to back; deliveries = messages × subscribers; the direct burst is ${DIRECT_BURST_FACTOR}× longer so its window stays measurable)\n\n${markdownTable(
    ["subscribers", "path", "direct Redis deliveries/s", "relay deliveries/s", "relay / direct"],
    fanouts.map(({ relay, direct }) => [
      String(relay.subscribers),
      relay.target,
      fixed(direct.deliveriesPerSecond, 0),
      fixed(relay.deliveriesPerSecond, 0),
      ratio(relay.deliveriesPerSecond, direct.deliveriesPerSecond),
    ]),
  )}`;
}

export function closedLoopCpuSection(fanouts: readonly ClosedLoopPair[]): string {
  const names = [
    ...new Set(
      fanouts.flatMap(({ relay, direct }) => [...Object.keys(direct.cpu), ...Object.keys(relay.cpu)]),
    ),
  ];
  const servers = names.filter((name) => name !== "client");
  const rows = fanouts.flatMap(({ relay, direct }) =>
    [direct, relay].map((result) => {
      const server = servers.reduce((sum, name) => sum + (result.cpu[name] ?? 0), 0);
      return [
        String(result.subscribers),
        result.target,
        String(result.burstDeliveries),
        ...names.map((name) => (name in result.cpu ? fixed(result.cpu[name] ?? 0) : "–")),
        fixed((server / result.burstDeliveries) * 1e6, 1),
      ];
    }),
  );
  return (
    "### Closed loop: CPU during the fan-out bursts (seconds, from the first publish to the last delivery; 2 shared cores)\n\n" +
    "`client` is the benchmark process itself (its subscribers and publisher); the server side is everything else.\n\n" +
    markdownTable(
      [
        "subscribers",
        "path",
        "deliveries",
        ...names.map((name) => `${name} s`),
        "server CPU µs per delivery",
      ],
      rows,
    )
  );
}
