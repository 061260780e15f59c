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
import { connectDirect } from "./relay/direct-redis.ts";
import { type FanoutPlan, type FanoutResult, measureFanout } from "./relay/fanout.ts";
import {
  directLongPollTarget,
  type LongPollPlan,
  measureLongPoll,
  relayLongPollTarget,
} from "./relay/long-poll.ts";
import { cpuSeconds, residentBytes, totalResidentBytes } from "./relay/proc.ts";
import { type MemoryReading, type RelayBenchReport, renderReport } from "./relay/report.ts";
import { measureRoundTrips } from "./relay/round-trips.ts";
import { type RelayBenchStack, startRelayBenchStack } from "./relay/stack.ts";
import { directTarget, type FanoutTarget, relayTarget } from "./relay/targets.ts";

export const name = "relay";
export type { RelayBenchReport };

/** Message counts per fan-out size: enough samples for a p99 while the whole run stays near 3 minutes. */
type MessagePlan = Omit<FanoutPlan, "subscribers">;
const FEW_SUBSCRIBERS: MessagePlan = { warmup: 20, latencyMessages: 300, burstMessages: 1000, batchSize: 50 };
const HUNDREDS: MessagePlan = { warmup: 5, latencyMessages: 100, burstMessages: 100, batchSize: 50 };
const THOUSANDS: MessagePlan = { warmup: 3, latencyMessages: 20, burstMessages: 20, batchSize: 50 };
const LONG_POLL: LongPollPlan = { loops: 100, messages: 30, waitSeconds: 10 };
const ROUND_TRIPS = 100;
/** Pause before each memory reading so buffers and lazily grown heaps settle. */
const MEMORY_SETTLE_MS = 1500;

export async function run(
  log: (line: string) => void = (line) => console.log(line),
): Promise<RelayBenchReport> {
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
    for (const subscribers of sizes) {
      const plan = { subscribers, ...planFor(subscribers) };
      const withMemory = subscribers === Math.max(...sizes);
      const reading = emptyReading(subscribers);
      phase(`fan-out to ${subscribers}: direct Redis`);
      const directCpu = () => ({ client: clientCpuSeconds(), "redis-server": cpuSeconds(stack.redisPid) });
      const directResult = await fanout(direct, plan, withMemory, directCpu, {
        before: async () => {
          reading.redis.before = await settled(() => residentBytes(stack.redisPid));
        },
        open: async () => {
          reading.redis.open = await settled(() => residentBytes(stack.redisPid));
        },
      });
      phase(`fan-out to ${subscribers}: relay`);
      const relayCpu = () => ({
        client: clientCpuSeconds(),
        workerd: stack.workerdPids().reduce((sum, pid) => sum + cpuSeconds(pid), 0),
        proxy: cpuSeconds(stack.proxyPid),
        "redis-server": cpuSeconds(stack.redisPid),
      });
      const relayResult = await fanout(relay, plan, withMemory, relayCpu, {
        before: async () => {
          ({ workerd: reading.workerd.before, proxy: reading.proxy.before } = await settled(() =>
            relayMemory(stack),
          ));
        },
        open: async () => {
          ({ workerd: reading.workerd.open, proxy: reading.proxy.open } = await settled(() =>
            relayMemory(stack),
          ));
        },
      });
      if (withMemory) {
        ({ workerd: reading.workerd.closed, proxy: reading.proxy.closed } = await settled(() =>
          relayMemory(stack),
        ));
        memory = reading;
      }
      fanouts.push({ relay: relayResult, direct: directResult });
    }

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
      memory,
      longPoll: { plan: LONG_POLL, relay: relayLongPoll, direct: directLongPoll },
      seconds: (performance.now() - started) / 1000,
    });
  } finally {
    publisher.disconnect();
    await stack.stop();
  }
}

function fanout(
  target: FanoutTarget,
  plan: FanoutPlan,
  withMemory: boolean,
  cpu: () => Record<string, number>,
  memory: { before(): Promise<void>; open(): Promise<void> },
): Promise<FanoutResult> {
  const kind = target.name === "relay" ? "relay" : "direct";
  return measureFanout(
    target,
    channel(`${kind}-${plan.subscribers}`),
    plan,
    withMemory ? { beforeOpen: memory.before, afterOpen: memory.open, cpu } : { cpu },
  );
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
    workerd: { before: 0, open: 0, closed: 0 },
    proxy: { before: 0, open: 0, closed: 0 },
    redis: { before: 0, open: 0 },
  };
}

function relayMemory(stack: RelayBenchStack): { workerd: number; proxy: number } {
  return { workerd: totalResidentBytes(stack.workerdPids()), proxy: residentBytes(stack.proxyPid) };
}

/** This process: the benchmark's own subscribers and publisher. */
function clientCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function settled<T>(read: () => T): Promise<T> {
  await new Promise((done) => setTimeout(done, MEMORY_SETTLE_MS));
  return read();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await run();
  console.log(`\n${result.markdown}`);
  process.exitCode = result.targetsMet ? 0 : 1;
}
