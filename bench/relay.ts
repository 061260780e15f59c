/**
 * Relay benchmark: publish→SSE delivery latency with 1, 100 and 1000 subscribers, fan-out deliveries/s,
 * memory per open SSE stream and long-poll requests/s, each next to a direct-Redis baseline measured in
 * the same run (design §8). Every subscriber's receipts are checked for loss, duplicates and order.
 *
 * Path under test: HTTP client → relay under `wrangler dev` (workerd) → REST proxy (own process) → redis-server.
 * Auth stays on: requests carry an HS256 token minted for the run (scope `publish:bench.* subscribe:bench.*`).
 *
 * Run: `npm run bench -- relay`, or standalone `node bench/relay.ts` (Node ≥ 22.12).
 * BENCH_RELAY_SUBSCRIBERS=1,100 limits the fan-out sizes (default 1,100,1000).
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { BenchReport } from "./lib/module.ts";
import { connectDirect } from "./relay/direct-redis.ts";
import { type FanoutPlan, type FanoutResult, measureFanoutPair } from "./relay/fanout.ts";
import { measureStreamFloor } from "./relay/floor.ts";
import { type LongPollPlan, measureLongPoll } from "./relay/long-poll.ts";
import { directLongPollTarget, relayLongPollTarget } from "./relay/long-poll-targets.ts";
import { cpuSeconds, totalResidentBytes } from "./relay/proc.ts";
import { type MemoryReading, renderReport } from "./relay/report.ts";
import { measureRoundTrips } from "./relay/round-trips.ts";
import { type RelayBenchStack, startRelayBenchStack } from "./relay/stack.ts";
import { directTarget, relayTarget } from "./relay/targets.ts";

export const name = "relay";

/** Message counts per fan-out size: enough samples for a p99 while the whole run stays near 3 minutes. */
type MessagePlan = Omit<FanoutPlan, "subscribers"> & { burstMessages: number };
const FEW_SUBSCRIBERS: MessagePlan = { warmup: 20, latencyMessages: 300, burstMessages: 1000, batchSize: 50 };
const HUNDREDS: MessagePlan = { warmup: 5, latencyMessages: 100, burstMessages: 100, batchSize: 50 };
const THOUSANDS: MessagePlan = { warmup: 3, latencyMessages: 15, burstMessages: 10, batchSize: 50 };
const LONG_POLL: LongPollPlan = { loops: 100, messages: 20, waitSeconds: 10 };
const ROUND_TRIPS = 100;
/** The Node comparison runs at the size of the p99 target. */
const NODE_COMPARISON_SUBSCRIBERS = 100;
/** Direct Redis delivers a burst ~100× faster: a longer burst keeps its measuring window well above timer noise. */
const DIRECT_BURST_FACTOR = 20;
/** Pause before each memory reading so buffers and lazily grown heaps settle. */
const MEMORY_SETTLE_MS = 1500;

export async function run(log: (line: string) => void = (line) => console.log(line)): Promise<BenchReport> {
  const sizes = subscriberCounts();
  const started = performance.now();
  const phase = (text: string) => log(`  [${((performance.now() - started) / 1000).toFixed(0)} s] ${text}`);
  const stack = await startRelayBenchStack(phase);
  const publisher = await connectDirect(stack.redisUrl).catch(async (error) => {
    await stack.stop();
    throw error;
  });
  try {
    const relay = relayTarget(stack.relayUrl, stack.authorization, stack.redisUrl);
    const direct = directTarget(stack.redisUrl, publisher);
    phase("round trips");
    const roundTrips = await measureRoundTrips(
      stack.relayUrl,
      stack.authorization,
      publisher,
      channel("probe"),
      ROUND_TRIPS,
    );

    const fanouts: Array<{ relay: FanoutResult; direct: FanoutResult }> = [];
    let memory: MemoryReading | undefined;
    const largest = Math.max(...sizes);
    for (const subscribers of sizes) {
      const plan = { subscribers, ...planFor(subscribers) };
      const reading = subscribers === largest ? emptyReading(subscribers) : undefined;
      const redisOnly = () => ({ "redis-server": [stack.redisPid] });
      phase(`fan-out to ${subscribers}: direct Redis and relay, latency messages alternating`);
      const [directResult, relayResult] = await measureFanoutPair(plan, [
        {
          target: direct,
          channel: channel(`direct-${subscribers}`),
          burstMessages: plan.burstMessages * DIRECT_BURST_FACTOR,
          cpu: () => cpuByProcess(redisOnly()),
          beforeOpen: async () => {
            if (reading) reading.redis.before = (await settledRss(redisOnly()))["redis-server"] ?? 0;
          },
          afterOpen: async () => {
            if (reading) reading.redis.open = (await settledRss(redisOnly()))["redis-server"] ?? 0;
          },
        },
        {
          target: relay,
          channel: channel(`relay-${subscribers}`),
          burstMessages: plan.burstMessages,
          cpu: () => cpuByProcess(relayProcesses(stack)),
          beforeOpen: async () => {
            if (reading) reading.relay.before = await settledRss(relayProcesses(stack));
          },
          afterOpen: async () => {
            if (reading) reading.relay.open = await settledRss(relayProcesses(stack));
          },
        },
      ]);
      if (!directResult || !relayResult)
        throw new Error("the fan-out pair returned fewer results than sides");
      if (reading) {
        reading.relay.closed = await settledRss(relayProcesses(stack));
        phase(`memory floor: ${subscribers} bare streams on a worker that only holds them open`);
        reading.floor = await measureStreamFloor(subscribers);
        memory = reading;
      }
      fanouts.push({ relay: relayResult, direct: directResult });
    }

    const nodeSubscribers = Math.min(NODE_COMPARISON_SUBSCRIBERS, largest);
    const nodeRelay = await stack.startNodeRelay();
    const nodeProcesses = () => ({ "relay (Node)": [nodeRelay.pid], proxy: [stack.proxyPid] });
    // Memory first, on the fresh process (after a small warm-up): garbage left by the bursts would blur it.
    phase(`the same relay on Node: memory with ${largest} open streams`);
    const onNodeTarget = {
      ...relayTarget(nodeRelay.url, stack.authorization, stack.redisUrl),
      name: "relay on Node",
    };
    await (await onNodeTarget.open(channel("node-warmup"), Math.min(50, largest), () => {})).close();
    const nodeMemory = { streams: largest, before: await settledRss(nodeProcesses()), open: {} };
    const held = await onNodeTarget.open(channel(`node-memory-${largest}`), largest, () => {});
    nodeMemory.open = await settledRss(nodeProcesses());
    await held.close();
    phase(`the same relay on Node: fan-out to ${nodeSubscribers}, direct Redis alternating`);
    const [nodeDirect, onNode] = await measureFanoutPair(
      { subscribers: nodeSubscribers, ...planFor(nodeSubscribers) },
      [
        {
          target: direct,
          channel: channel(`direct-node-${nodeSubscribers}`),
          burstMessages: planFor(nodeSubscribers).burstMessages * DIRECT_BURST_FACTOR,
          cpu: () => cpuByProcess({ "redis-server": [stack.redisPid] }),
        },
        {
          target: onNodeTarget,
          channel: channel(`node-${nodeSubscribers}`),
          burstMessages: planFor(nodeSubscribers).burstMessages,
          cpu: () => cpuByProcess(nodeProcesses()),
        },
      ],
    );
    if (!nodeDirect || !onNode) throw new Error("the Node fan-out pair returned fewer results than sides");
    await nodeRelay.stop();

    phase(`long-poll, ${LONG_POLL.loops} loops: direct Redis`);
    const directPoll = await directLongPollTarget(stack.redisUrl, LONG_POLL.waitSeconds);
    const directLongPoll = await measureLongPoll(directPoll, channel("direct-poll"), LONG_POLL).finally(() =>
      directPoll.close(),
    );
    phase(`long-poll, ${LONG_POLL.loops} loops: relay`);
    const relayPoll = relayLongPollTarget(stack.relayUrl, stack.authorization, LONG_POLL.waitSeconds);
    const relayLongPoll = await measureLongPoll(relayPoll, channel("relay-poll"), LONG_POLL);
    phase("done");
    return renderReport({
      roundTrips,
      fanouts,
      directBurstFactor: DIRECT_BURST_FACTOR,
      onNode: { relay: onNode, direct: nodeDirect, memory: nodeMemory },
      memory,
      longPoll: { plan: LONG_POLL, relay: relayLongPoll, direct: directLongPoll },
      seconds: (performance.now() - started) / 1000,
    });
  } finally {
    publisher.disconnect();
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

/** Channel names under `bench.` (the token's scope), unique per run. */
function channel(kind: string): string {
  return `bench.${kind}.${randomUUID().slice(0, 8)}`;
}

function emptyReading(streams: number): MemoryReading {
  return {
    streams,
    relay: { before: {}, open: {}, closed: {} },
    redis: { before: 0, open: 0 },
    floor: undefined,
  };
}

/** The processes on the relay's path, by the names the report uses. */
function relayProcesses(stack: RelayBenchStack): Record<string, number[]> {
  const { entry, worker } = stack.workerd();
  return { "workerd (wrangler entry)": entry, "workerd (relay)": worker, proxy: [stack.proxyPid] };
}

/** CPU seconds used so far per named process group, plus this process (the benchmark's clients). */
function cpuByProcess(groups: Record<string, number[]>): Record<string, number> {
  const { user, system } = process.cpuUsage();
  const used: Record<string, number> = { client: (user + system) / 1e6 };
  for (const [name, pids] of Object.entries(groups))
    used[name] = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  return used;
}

/** RSS per named process group, read after a pause so buffers and lazily grown heaps settle. */
async function settledRss(groups: Record<string, number[]>): Promise<Record<string, number>> {
  await new Promise((done) => setTimeout(done, MEMORY_SETTLE_MS));
  return Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, totalResidentBytes(pids)]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await run();
  console.log(`\n${result.markdown}`);
  process.exitCode = result.targetsMet ? 0 : 1;
}
