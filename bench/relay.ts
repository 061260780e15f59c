/**
 * Relay benchmark: publish→SSE delivery latency with 1, 100 and 1000 subscribers, fan-out deliveries/s,
 * memory per open SSE stream and long-poll requests/s, each next to a direct-Redis baseline measured in
 * the same run (design §8). Every subscriber's receipts are checked for loss, duplicates and order.
 *
 * Path under test: HTTP client → relay under `wrangler dev` (workerd) → REST proxy (own process) → redis-server.
 * Auth stays on: requests carry an HS256 token minted for the run (scope `publish:* subscribe:*`).
 *
 * Run: `npm run bench -- relay`, or standalone `node bench/relay.ts` (Node ≥ 22.12).
 * BENCH_RELAY_SUBSCRIBERS=1,100 limits the fan-out sizes (default 1,100,1000).
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { DeliveryCheck } from "./relay/deliveries.ts";
import { connectDirect } from "./relay/direct-redis.ts";
import { type FanoutPlan, type FanoutResult, measureFanout } from "./relay/fanout.ts";
import {
  directLongPollTarget,
  type LongPollResult,
  measureLongPoll,
  relayLongPollTarget,
} from "./relay/long-poll.ts";
import { residentBytes, totalResidentBytes } from "./relay/process-memory.ts";
import { measureRoundTrips, type RoundTrip } from "./relay/round-trips.ts";
import { type RelayBenchStack, startRelayBenchStack } from "./relay/stack.ts";
import { fixed, markdownTable, percentile, ratio } from "./relay/stats.ts";
import { directTarget, relayTarget } from "./relay/targets.ts";

export const name = "relay";

/** Message counts per fan-out size: enough samples for a p99 while the whole run stays under ~3 minutes. */
type MessagePlan = Omit<FanoutPlan, "subscribers">;
const FEW_SUBSCRIBERS: MessagePlan = { warmup: 20, latencyMessages: 300, burstMessages: 2000, batchSize: 50 };
const HUNDREDS: MessagePlan = { warmup: 5, latencyMessages: 100, burstMessages: 300, batchSize: 50 };
const THOUSANDS: MessagePlan = { warmup: 3, latencyMessages: 30, burstMessages: 50, batchSize: 50 };
const LONG_POLL = { loops: 100, messages: 200, waitSeconds: 10 };
const MEMORY_SETTLE_MS = 1500;
const ROUND_TRIPS = 200;

/** The targets of the issue, checked on every run. */
const P99_RATIO_TARGET = 2;
const P99_TARGET_SUBSCRIBERS = 100;
const MEMORY_TARGET_BYTES = 50 * 1024;

interface MemoryReading {
  streams: number;
  /** workerd + proxy RSS before the streams opened and once all were open (bytes). */
  relayBefore: number;
  relayAfter: number;
  relayAfterClose: number;
  /** redis-server RSS around the same number of direct SUBSCRIBE connections (bytes). */
  redisBefore: number;
  redisAfter: number;
}

export interface RelayBenchReport {
  markdown: string;
  targetsMet: boolean;
}

export async function run(
  log: (line: string) => void = (line) => console.log(line),
): Promise<RelayBenchReport> {
  const sizes = subscriberCounts();
  const stack = await startRelayBenchStack((line) => log(`  ${line}`));
  try {
    const publisher = await connectDirect(stack.redisUrl);
    try {
      const relay = relayTarget(stack.relayUrl, stack.authorization);
      const direct = directTarget(stack.redisUrl, publisher);
      log("  round trips");
      const roundTrips = await measureRoundTrips(
        stack.relayUrl,
        stack.authorization,
        publisher,
        uniqueChannel("probe"),
        ROUND_TRIPS,
      );
      const fanouts: Array<{ relay: FanoutResult; direct: FanoutResult }> = [];
      let memory: MemoryReading | undefined;
      for (const subscribers of sizes) {
        const plan = { subscribers, ...planFor(subscribers) };
        const measureMemory = subscribers === Math.max(...sizes);
        const reading: MemoryReading = {
          streams: subscribers,
          relayBefore: 0,
          relayAfter: 0,
          relayAfterClose: 0,
          redisBefore: 0,
          redisAfter: 0,
        };
        log(`  fan-out, ${subscribers} subscriber(s): direct Redis`);
        const directResult = await measureFanout(direct, uniqueChannel(`direct-${subscribers}`), plan, {
          beforeOpen: async () => {
            if (measureMemory) reading.redisBefore = await settledRss(() => residentBytes(stack.redisPid));
          },
          afterOpen: async () => {
            if (measureMemory) reading.redisAfter = await settledRss(() => residentBytes(stack.redisPid));
          },
        });
        log(`  fan-out, ${subscribers} subscriber(s): relay`);
        const relayResult = await measureFanout(relay, uniqueChannel(`relay-${subscribers}`), plan, {
          beforeOpen: async () => {
            if (measureMemory) reading.relayBefore = await settledRss(() => relayRss(stack));
          },
          afterOpen: async () => {
            if (measureMemory) reading.relayAfter = await settledRss(() => relayRss(stack));
          },
        });
        if (measureMemory) {
          reading.relayAfterClose = await settledRss(() => relayRss(stack));
          memory = reading;
        }
        fanouts.push({ relay: relayResult, direct: directResult });
      }

      log(`  long-poll, ${LONG_POLL.loops} loops: direct Redis`);
      const directPoll = await directLongPollTarget(stack.redisUrl, LONG_POLL.waitSeconds);
      const directLongPoll = await measureLongPoll(
        directPoll,
        uniqueChannel("direct-poll"),
        LONG_POLL,
      ).finally(() => directPoll.close());
      log(`  long-poll, ${LONG_POLL.loops} loops: relay`);
      const relayLongPoll = await measureLongPoll(
        relayLongPollTarget(stack.relayUrl, stack.authorization, LONG_POLL.waitSeconds),
        uniqueChannel("relay-poll"),
        LONG_POLL,
      );
      return report(roundTrips, fanouts, memory, { relay: relayLongPoll, direct: directLongPoll });
    } finally {
      publisher.disconnect();
    }
  } finally {
    await stack.stop();
  }
}

function subscriberCounts(): number[] {
  const raw = process.env.BENCH_RELAY_SUBSCRIBERS;
  if (!raw) return [1, 100, 1000];
  const counts = raw.split(",").map((part) => Number(part.trim()));
  if (counts.some((count) => !Number.isInteger(count) || count < 1 || count > 5000)) {
    throw new Error(
      `BENCH_RELAY_SUBSCRIBERS must be comma-separated integers 1..5000, got ${JSON.stringify(raw)}`,
    );
  }
  return counts;
}

function planFor(subscribers: number): MessagePlan {
  return subscribers < 100 ? FEW_SUBSCRIBERS : subscribers < 1000 ? HUNDREDS : THOUSANDS;
}

function uniqueChannel(kind: string): string {
  return `bench.${kind}.${randomUUID().slice(0, 8)}`;
}

/** RSS of every workerd process of `wrangler dev` plus the proxy process. */
function relayRss(stack: RelayBenchStack): number {
  return totalResidentBytes([...stack.workerdPids(), stack.proxyPid]);
}

/** Reads after a pause so buffers and lazily grown heaps have settled. */
async function settledRss(read: () => number): Promise<number> {
  await new Promise((done) => setTimeout(done, MEMORY_SETTLE_MS));
  return read();
}

function checkCells(check: DeliveryCheck): string[] {
  return [String(check.lost), String(check.duplicates), String(check.outOfOrder)];
}

function clean(check: DeliveryCheck): boolean {
  return check.lost === 0 && check.duplicates === 0 && check.outOfOrder === 0;
}

function kib(bytes: number): string {
  return fixed(bytes / 1024, 1);
}

function report(
  roundTrips: RoundTrip[],
  fanouts: Array<{ relay: FanoutResult; direct: FanoutResult }>,
  memory: MemoryReading | undefined,
  longPoll: { relay: LongPollResult; direct: LongPollResult },
): RelayBenchReport {
  const sections: string[] = [];
  const verdicts: Array<{ target: string; met: boolean; detail: string }> = [];

  const floor = roundTrips[0]?.samples ?? [];
  sections.push(
    "### Round trips (sequential; where a delivery's time goes)",
    "",
    markdownTable(
      ["request", "p50 ms", "p99 ms", "p50 vs direct PING"],
      roundTrips.map((trip) => [
        trip.label,
        fixed(percentile(trip.samples, 50)),
        fixed(percentile(trip.samples, 99)),
        ratio(percentile(trip.samples, 50), percentile(floor, 50)),
      ]),
    ),
    "",
  );

  const latencyRows: string[][] = [];
  for (const { relay, direct } of fanouts) {
    const relayP99 = percentile(relay.latencies, 99);
    const directP99 = percentile(direct.latencies, 99);
    for (const result of [direct, relay]) {
      const isRelay = result === relay;
      latencyRows.push([
        String(result.subscribers),
        result.target,
        fixed(percentile(result.latencies, 50)),
        fixed(percentile(result.latencies, 99)),
        isRelay ? ratio(percentile(relay.latencies, 50), percentile(direct.latencies, 50)) : "1.00×",
        isRelay ? ratio(relayP99, directP99) : "1.00×",
        String(result.latencies.length),
        ...checkCells(result.check),
        String(result.reconnects),
        String(result.resets),
        fixed(result.openMs / 1000, 1),
      ]);
    }
    if (relay.subscribers === P99_TARGET_SUBSCRIBERS) {
      const factor = relayP99 / directP99;
      verdicts.push({
        target: `p99 with ${P99_TARGET_SUBSCRIBERS} subscribers ≤ ${P99_RATIO_TARGET}× direct Redis p99`,
        met: factor <= P99_RATIO_TARGET,
        detail: `relay ${fixed(relayP99)} ms vs direct ${fixed(directP99)} ms = ${fixed(factor)}×`,
      });
    }
  }
  sections.push(
    "### Publish → SSE delivery latency (closed loop: next publish after every subscriber got the last)",
    "",
    markdownTable(
      [
        "subscribers",
        "path",
        "p50 ms",
        "p99 ms",
        "p50 ratio",
        "p99 ratio",
        "samples",
        "lost",
        "dup",
        "out of order",
        "reconnects",
        "resets",
        "open s",
      ],
      latencyRows,
    ),
  );

  sections.push(
    "",
    "### Fan-out burst (batches of 50 published back to back; deliveries = messages × subscribers)",
    "",
    markdownTable(
      ["subscribers", "direct Redis deliveries/s", "relay deliveries/s", "relay / direct"],
      fanouts.map(({ relay, direct }) => [
        String(relay.subscribers),
        fixed(direct.deliveriesPerSecond, 0),
        fixed(relay.deliveriesPerSecond, 0),
        ratio(relay.deliveriesPerSecond, direct.deliveriesPerSecond),
      ]),
    ),
  );

  if (memory) {
    const perStream = (memory.relayAfter - memory.relayBefore) / memory.streams;
    const perDirect = (memory.redisAfter - memory.redisBefore) / memory.streams;
    sections.push(
      "",
      "### Memory per open SSE stream (VmRSS of workerd + proxy; baseline: redis-server per SUBSCRIBE connection)",
      "",
      markdownTable(
        [
          "streams",
          "RSS before MiB",
          "RSS open MiB",
          "RSS after close MiB",
          "per stream KiB",
          "redis-server per direct subscriber KiB",
          "ratio",
        ],
        [
          [
            String(memory.streams),
            fixed(memory.relayBefore / 2 ** 20, 1),
            fixed(memory.relayAfter / 2 ** 20, 1),
            fixed(memory.relayAfterClose / 2 ** 20, 1),
            kib(perStream),
            kib(perDirect),
            ratio(perStream, perDirect),
          ],
        ],
      ),
    );
    verdicts.push({
      target: "memory per open stream (worker + proxy) < 50 KB",
      met: perStream < MEMORY_TARGET_BYTES,
      detail: `${kib(perStream)} KiB over ${memory.streams} streams`,
    });
  }

  sections.push(
    "",
    `### Long-poll (${LONG_POLL.loops} concurrent loops, wait=${LONG_POLL.waitSeconds}s, ${LONG_POLL.messages} messages published back to back; baseline XREAD BLOCK)`,
    "",
    markdownTable(
      ["path", "requests", "requests/s", "ratio", "p50 ms", "p99 ms", "lost", "dup", "out of order", "gaps"],
      [longPoll.direct, longPoll.relay].map((result) => [
        result.target,
        String(result.requests),
        fixed(result.requestsPerSecond, 0),
        ratio(result.requestsPerSecond, longPoll.direct.requestsPerSecond),
        fixed(percentile(result.latencies, 50)),
        fixed(percentile(result.latencies, 99)),
        ...checkCells(result.check),
        String(result.gaps),
      ]),
    ),
  );

  const scenarios = [
    ...fanouts.flatMap(({ relay, direct }) =>
      [relay, direct].map((r) => ({
        name: `${r.target} fan-out ×${r.subscribers}`,
        check: r.check,
        errors: r.errors,
      })),
    ),
    ...[longPoll.direct, longPoll.relay].map((r) => ({
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
  const errors = scenarios.flatMap((s) => s.errors.map((e) => `${s.name}: ${e}`));
  sections.push(
    "",
    "### Targets",
    "",
    markdownTable(
      ["target", "result", "measured"],
      verdicts.map((v) => [v.target, v.met ? "met" : "**MISSED**", v.detail]),
    ),
  );
  if (errors.length > 0) sections.push("", "Errors:", ...errors.slice(0, 20).map((e) => `- ${e}`));
  return { markdown: sections.join("\n"), targetsMet: verdicts.every((v) => v.met) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await run();
  console.log(`\n${result.markdown}`);
  process.exitCode = result.targetsMet ? 0 : 1;
}
