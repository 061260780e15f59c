import { markdownTable } from "../lib/table.ts";
import { serverCpu } from "./metering.ts";
import type { OpenLoopResult } from "./open-loop.ts";
import type { OpenLoopOutcome } from "./open-loop-suite.ts";
import { checkCells, ms } from "./report-cells.ts";
import { fixed, percentile, ratio } from "./stats.ts";

const p99 = (result: OpenLoopResult) => percentile(result.latencies, 99);

/** One open-loop scenario: direct Redis, then per runtime its floor and the relay, with ratios to both. */
export function openLoopSection(outcome: OpenLoopOutcome): string {
  const { scenario, direct } = outcome;
  const { plan } = scenario;
  const rate = plan.rate === "flat-out" ? "flat out" : `${plan.rate} msg/s`;
  const rows = [row(direct, undefined, direct)];
  for (const { floor, relay } of outcome.runtimes)
    rows.push(row(floor, floor, direct), row(relay, floor, direct));
  const directNote =
    scenario.directMessageFactor > 1
      ? ` Direct Redis sends ${scenario.directMessageFactor}× the messages (its window would be lost in timer noise).`
      : "";
  return (
    `### Open loop: ${scenario.title} (${plan.messages} messages, ${rate})\n\n` +
    "Latency counts from when each message was due, not from when it went out: a path that falls behind " +
    "shows it here. One publisher, one request at a time, in order. `lag max` is how late the last-started " +
    `publish was against its schedule; deliveries/s = deliveries / (last receipt − first due send).${directNote}\n\n` +
    markdownTable(
      [
        "path",
        "p50 ms",
        "p99 ms",
        "max ms",
        "p99 vs floor",
        "p99 vs direct",
        "publish p50 ms",
        "lag max ms",
        "deliveries/s",
        "vs floor",
        "vs direct",
        "server CPU µs/delivery",
        "CPU s by process",
        "lost",
        "dup",
        "out of order",
        "reconnects",
        "resets",
      ],
      rows,
    )
  );
}

function row(result: OpenLoopResult, floor: OpenLoopResult | undefined, direct: OpenLoopResult): string[] {
  const isFloor = result === floor;
  const cpu = serverCpu(result.cpu);
  return [
    result.label,
    ms(result.latencies, 50),
    ms(result.latencies, 99),
    ms(result.latencies, 100),
    floor && !isFloor ? ratio(p99(result), p99(floor)) : "–",
    result === direct ? "1.00×" : ratio(p99(result), p99(direct)),
    ms(result.publishMs, 50),
    fixed(Math.max(0, ...result.publishLag), 1),
    fixed(result.deliveriesPerSecond, 0),
    floor && !isFloor ? ratio(result.deliveriesPerSecond, floor.deliveriesPerSecond) : "–",
    result === direct ? "1.00×" : ratio(result.deliveriesPerSecond, direct.deliveriesPerSecond),
    result.deliveries > 0 ? fixed((cpu / result.deliveries) * 1e6, 1) : "n/a",
    Object.entries(result.cpu)
      .filter(([name]) => name !== "client")
      .map(([name, used]) => `${name} ${fixed(used)}`)
      .join(", "),
    ...checkCells(result.check),
    String(result.reconnects),
    String(result.resets),
  ];
}
