import type { BenchReport } from "../lib/module.ts";
import { markdownTable } from "../lib/table.ts";
import type { DeliveryCheck } from "./deliveries.ts";
import type { FanoutResult } from "./fanout.ts";
import type { StreamFloor } from "./floor.ts";
import type { LongPollPlan, LongPollResult } from "./long-poll.ts";
import type { RoundTrip } from "./round-trips.ts";
import { fixed, percentile, ratio } from "./stats.ts";

/** The issue's targets, checked on every run. */
const P99_RATIO_TARGET = 2;
const P99_TARGET_SUBSCRIBERS = 100;
const MEMORY_TARGET_BYTES = 50 * 1024;

/** Resident memory (bytes) of the relay's processes and of redis-server around N open streams. */
export interface MemoryReading {
  streams: number;
  /** RSS per relay process group (wrangler entry workerd, relay workerd, proxy): before, all open, closed. */
  relay: { before: Record<string, number>; open: Record<string, number>; closed: Record<string, number> };
  /** redis-server around the same number of direct SUBSCRIBE connections (the baseline). */
  redis: { before: number; open: number };
  /** A worker that only holds streams open, under the same wrangler dev (the workerd floor). */
  floor: StreamFloor | undefined;
}

export interface RelayBenchResults {
  roundTrips: RoundTrip[];
  fanouts: Array<{ relay: FanoutResult; direct: FanoutResult }>;
  /** How many times more messages the direct bursts published than the relay's. */
  directBurstFactor: number;
  /** The same relay app on Node against the same proxy, with its own direct baseline. */
  onNode: {
    relay: FanoutResult;
    direct: FanoutResult;
    memory: { streams: number; before: Record<string, number>; open: Record<string, number> };
  };
  memory: MemoryReading | undefined;
  longPoll: { plan: LongPollPlan; relay: LongPollResult; direct: LongPollResult };
  seconds: number;
}

interface Verdict {
  target: string;
  met: boolean;
  detail: string;
}

const ms = (samples: readonly number[], p: number) => fixed(percentile(samples, p));
const mib = (bytes: number) => fixed(bytes / 2 ** 20, 1);
const kib = (bytes: number) => fixed(bytes / 1024, 1);
const checkCells = (check: DeliveryCheck) => [
  String(check.lost),
  String(check.duplicates),
  String(check.outOfOrder),
];
const clean = (check: DeliveryCheck) => check.lost === 0 && check.duplicates === 0 && check.outOfOrder === 0;

/** Markdown tables with absolute figures and ratios to the same run's baseline, then the targets' verdicts. */
export function renderReport(results: RelayBenchResults): BenchReport {
  const verdicts: Verdict[] = [];
  const sections = [
    roundTripSection(results.roundTrips),
    latencySection(results.fanouts, verdicts),
    burstSection(results.fanouts, results.directBurstFactor),
    cpuSection(results.fanouts),
    results.memory ? memorySection(results.memory, verdicts) : "",
    nodeSection(results.onNode),
    longPollSection(results.longPoll),
  ];
  const scenarios = [
    ...results.fanouts.flatMap(({ relay, direct }) =>
      [direct, relay].map((r) => ({
        name: `${r.target} fan-out ×${r.subscribers}`,
        check: r.check,
        errors: r.errors,
      })),
    ),
    ...[results.onNode.direct, results.onNode.relay].map((r) => ({
      name: `${r.target} fan-out ×${r.subscribers} (Node comparison)`,
      check: r.check,
      errors: r.errors,
    })),
    ...[results.longPoll.direct, results.longPoll.relay].map((r) => ({
      name: `${r.target} long-poll`,
      check: r.check,
      errors: r.errors,
    })),
  ];
  const dirty = scenarios.filter((s) => !clean(s.check) || s.errors.length > 0);
  verdicts.unshift({
    target: "zero loss, zero duplicates, in order, in every scenario",
    met: dirty.length === 0,
    detail:
      dirty.length === 0
        ? `${scenarios.length} scenarios checked`
        : `failed: ${dirty.map((s) => s.name).join(", ")}`,
  });
  sections.push(
    `### Targets (run took ${fixed(results.seconds, 0)} s)\n\n` +
      markdownTable(
        ["target", "result", "measured"],
        verdicts.map((v) => [v.target, v.met ? "met" : "**MISSED**", v.detail]),
      ),
  );
  const errors = new Map<string, number>();
  for (const s of scenarios)
    for (const e of s.errors) errors.set(`${s.name}: ${e}`, (errors.get(`${s.name}: ${e}`) ?? 0) + 1);
  if (errors.size > 0) {
    const lines = [...errors]
      .slice(0, 20)
      .map(([text, count]) => `- ${text}${count > 1 ? ` (×${count})` : ""}`);
    sections.push(`Errors:\n${lines.join("\n")}`);
  }
  return { markdown: sections.filter(Boolean).join("\n\n"), targetsMet: verdicts.every((v) => v.met) };
}

function roundTripSection(roundTrips: RoundTrip[]): string {
  const ping = roundTrips[0]?.samples ?? [];
  return `### Round trips (sequential requests; the floor under every figure below)\n\n${markdownTable(
    ["request", "p50 ms", "p99 ms", "p50 vs direct PING"],
    roundTrips.map((trip) => [
      trip.label,
      ms(trip.samples, 50),
      ms(trip.samples, 99),
      ratio(percentile(trip.samples, 50), percentile(ping, 50)),
    ]),
  )}`;
}

function latencySection(fanouts: RelayBenchResults["fanouts"], verdicts: Verdict[]): string {
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
    if (relay.subscribers === P99_TARGET_SUBSCRIBERS) {
      const relayP99 = percentile(relay.latencies, 99);
      const directP99 = percentile(direct.latencies, 99);
      verdicts.push({
        target: `p99 with ${P99_TARGET_SUBSCRIBERS} subscribers ≤ ${P99_RATIO_TARGET}× direct Redis p99`,
        met: relayP99 <= P99_RATIO_TARGET * directP99,
        detail: `relay ${fixed(relayP99)} ms vs direct ${fixed(directP99)} ms = ${ratio(relayP99, directP99)}`,
      });
    }
  }
  return (
    "### Publish → delivery latency (closed loop: the next publish once every subscriber has the last)\n\n" +
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

function burstSection(fanouts: RelayBenchResults["fanouts"], directBurstFactor: number): string {
  return `### Fan-out throughput (batches of 50 published back to back; deliveries = messages × subscribers; the direct burst is ${directBurstFactor}× longer so its window stays measurable)\n\n${markdownTable(
    ["subscribers", "direct Redis deliveries/s", "relay deliveries/s", "relay / direct"],
    fanouts.map(({ relay, direct }) => [
      String(relay.subscribers),
      fixed(direct.deliveriesPerSecond, 0),
      fixed(relay.deliveriesPerSecond, 0),
      ratio(relay.deliveriesPerSecond, direct.deliveriesPerSecond),
    ]),
  )}`;
}

function cpuSection(fanouts: RelayBenchResults["fanouts"]): string {
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
    "### CPU during the fan-out bursts (seconds, from the first publish to the last delivery; 2 shared cores)\n\n" +
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

function memorySection(memory: MemoryReading, verdicts: Verdict[]): string {
  const n = memory.streams;
  const { before, open, closed } = memory.relay;
  const names = Object.keys(open);
  const perStream = (name: string) => ((open[name] ?? 0) - (before[name] ?? 0)) / n;
  const total = names.reduce((sum, name) => sum + perStream(name), 0);
  const redis = (memory.redis.open - memory.redis.before) / n;
  const relayWorkerd = perStream("workerd (relay)");
  const proxy = perStream("proxy");
  verdicts.push({
    target: "memory per open stream (worker + proxy) < 50 KB",
    met: total < MEMORY_TARGET_BYTES,
    detail:
      `${kib(total)} KiB over ${n} streams: ${names.map((name) => `${name} ${kib(perStream(name))}`).join(", ")}; ` +
      `without wrangler's entry hop ${kib(relayWorkerd + proxy)} KiB`,
  });
  const rows = names.map((name) => [
    name,
    mib(before[name] ?? 0),
    mib(open[name] ?? 0),
    mib(closed[name] ?? 0),
    kib(perStream(name)),
  ]);
  rows.push(["relay total", "", "", "", kib(total)]);
  if (memory.floor) {
    rows.push(["floor: wrangler entry workerd, bare held stream", "", "", "", kib(memory.floor.entry)]);
    rows.push(["floor: worker workerd, bare held stream", "", "", "", kib(memory.floor.worker)]);
  }
  rows.push([
    "baseline: redis-server per direct SUBSCRIBE",
    mib(memory.redis.before),
    mib(memory.redis.open),
    "",
    kib(redis),
  ]);
  return (
    `### Memory per open SSE stream (VmRSS before opening ${n} streams, with all open, a moment after closing)\n\n` +
    "The floor rows are a worker that only holds a streamed response open, under the same wrangler dev: what " +
    "workerd spends per open request before the relay does anything.\n\n" +
    markdownTable(["process", "before MiB", "open MiB", "closed MiB", "per open stream KiB"], rows)
  );
}

function nodeSection(onNode: RelayBenchResults["onNode"]): string {
  const { relay, direct, memory } = onNode;
  const rows = [direct, relay].map((result) => {
    const servers = Object.keys(result.cpu).filter((name) => name !== "client");
    const server = servers.reduce((sum, name) => sum + (result.cpu[name] ?? 0), 0);
    return [
      result.target,
      ms(result.latencies, 50),
      ms(result.latencies, 99),
      ratio(percentile(result.latencies, 99), percentile(direct.latencies, 99)),
      result.redisToReceipt.length > 0
        ? `${ms(result.redisToReceipt, 50)} / ${ms(result.redisToReceipt, 99)}`
        : "–",
      fixed(result.deliveriesPerSecond, 0),
      fixed((server / result.burstDeliveries) * 1e6, 1),
      ...checkCells(result.check),
    ];
  });
  const perStream = Object.keys(memory.open)
    .map(
      (name) =>
        `${name} ${kib(((memory.open[name] ?? 0) - (memory.before[name] ?? 0)) / memory.streams)} KiB`,
    )
    .join(", ");
  return (
    `### The same relay on Node (src/entry/node.ts, same proxy), ${relay.subscribers} subscribers\n\n` +
    "Not a target: it shows how much of the figures above is workerd and `wrangler dev` rather than the relay. " +
    `Memory per open stream on Node, over ${memory.streams} streams: ${perStream}.\n\n` +
    markdownTable(
      [
        "path",
        "p50 ms",
        "p99 ms",
        "p99 ratio",
        "Redis→subscriber p50 / p99 ms",
        "deliveries/s",
        "server CPU µs per delivery",
        "lost",
        "dup",
        "out of order",
      ],
      rows,
    )
  );
}

function longPollSection(longPoll: RelayBenchResults["longPoll"]): string {
  const { plan, direct } = longPoll;
  return (
    `### Long-poll (${plan.loops} concurrent loops, wait=${plan.waitSeconds}s, ${plan.messages} messages published back to back)\n\n` +
    "Relay: `GET /v1/channels/:ch/messages?after=<cursor>&wait=` loops. Direct: `XREAD BLOCK` loops, one connection each.\n\n" +
    markdownTable(
      ["path", "requests", "requests/s", "ratio", "p50 ms", "p99 ms", "lost", "dup", "out of order", "gaps"],
      [direct, longPoll.relay].map((result) => [
        result.target,
        String(result.requests),
        fixed(result.requestsPerSecond, 0),
        ratio(result.requestsPerSecond, direct.requestsPerSecond),
        ms(result.latencies, 50),
        ms(result.latencies, 99),
        ...checkCells(result.check),
        String(result.gaps),
      ]),
    )
  );
}
