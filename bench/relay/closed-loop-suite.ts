import type { Redis } from "ioredis";
import { type FanoutPlan, type FanoutResult, measureFanoutPair } from "./fanout.ts";
import { cpuByProcess } from "./metering.ts";
import { channel } from "./open-loop-suite.ts";
import type { RuntimeUnderTest } from "./runtimes.ts";
import type { RelayBenchStack } from "./stack.ts";
import { directTarget, relayTarget } from "./targets.ts";

/** Message counts per fan-out size: enough samples for a p99 while the suite stays near a minute per runtime. */
type MessagePlan = Omit<FanoutPlan, "subscribers"> & { burstMessages: number };
const FEW_SUBSCRIBERS: MessagePlan = { warmup: 20, latencyMessages: 300, burstMessages: 1000, batchSize: 50 };
const HUNDREDS: MessagePlan = { warmup: 5, latencyMessages: 100, burstMessages: 100, batchSize: 50 };
const THOUSANDS: MessagePlan = { warmup: 3, latencyMessages: 15, burstMessages: 10, batchSize: 50 };
/** Direct Redis delivers a burst ~100× faster: a longer burst keeps its measuring window well above timer noise. */
export const DIRECT_BURST_FACTOR = 20;

export type ClosedLoopPair = { relay: FanoutResult; direct: FanoutResult };

/**
 * The closed-loop tables (the next publish once every subscriber has the last): unloaded latency, and bursts of
 * batches. For each runtime and size, relay and direct Redis messages alternate one by one.
 */
export async function runClosedLoopSuite(
  sizes: readonly number[],
  runtimes: readonly RuntimeUnderTest[],
  stack: RelayBenchStack,
  publisher: Redis,
  scale: number,
  phase: (text: string) => void,
): Promise<ClosedLoopPair[]> {
  const pairs: ClosedLoopPair[] = [];
  const direct = directTarget(stack.redisUrl, publisher);
  const redisCpu = () => cpuByProcess({ "redis-server": [stack.redisPid] });
  for (const runtime of runtimes) {
    const relay = {
      ...relayTarget(runtime.relay.url, stack.authorization, stack.redisUrl),
      name: `relay on ${runtime.label}`,
    };
    for (const subscribers of sizes) {
      const base = planFor(subscribers);
      const plan = {
        ...base,
        subscribers,
        latencyMessages: Math.max(10, Math.round(base.latencyMessages * scale)),
      };
      const burstMessages = Math.max(10, Math.round(base.burstMessages * scale));
      phase(
        `closed loop, ${subscribers} subscribers: direct Redis and relay on ${runtime.label} alternating`,
      );
      const [directResult, relayResult] = await measureFanoutPair(plan, [
        {
          target: direct,
          channel: channel(`closed-direct-${subscribers}`),
          burstMessages: burstMessages * DIRECT_BURST_FACTOR,
          cpu: redisCpu,
        },
        {
          target: relay,
          channel: channel(`closed-${runtime.name}-${subscribers}`),
          burstMessages,
          cpu: () => cpuByProcess(runtime.relay.processes()),
        },
      ]);
      if (!directResult || !relayResult)
        throw new Error("the fan-out pair returned fewer results than sides");
      pairs.push({ relay: relayResult, direct: directResult });
    }
  }
  return pairs;
}

function planFor(subscribers: number): MessagePlan {
  return subscribers < 100 ? FEW_SUBSCRIBERS : subscribers < 1000 ? HUNDREDS : THOUSANDS;
}
