import { scrapeProxyMetrics } from "../../src/proxy/metrics-text.ts";
import { runLoad } from "../lib/load.ts";
import { HttpConnection } from "./http-client.ts";
import { type LongPollPlan, type LongPollResult, measureLongPoll } from "./long-poll.ts";
import { directLongPollTarget, relayLongPollTarget } from "./long-poll-targets.ts";
import { cpuByProcess, cpuSpent } from "./metering.ts";
import { channel } from "./open-loop-suite.ts";
import type { RuntimeName, RuntimeUnderTest } from "./runtimes.ts";
import type { RelayBenchStack } from "./stack.ts";

/**
 * 100 messages: with 20 a relay's run lasted a few tenths of a second, most of it before V8 had optimised the
 * request path, and the figure moved by 2× between runs. Every side also gets an unmeasured warm-up round first.
 */
export const LONG_POLL: LongPollPlan = { loops: 100, messages: 100, waitSeconds: 10 };
const WARM_UP: LongPollPlan = { ...LONG_POLL, messages: 20 };
/** The Workers baseline: as many loops on a route that answers without Redis, for this long. */
const NO_REDIS_ROUTE_MS = 3000;
const NO_REDIS_ROUTE_WARMUP_MS = 500;

export interface NoRedisRoute {
  requestsPerSecond: number;
  p50: number;
  p99: number;
}

export interface LongPollOutcome {
  plan: LongPollPlan;
  direct: LongPollResult;
  runtimes: Array<{
    runtime: RuntimeName;
    label: string;
    relay: LongPollResult;
    /** Requests the proxy served for Redis during the relay's run (its publishes included): where time goes. */
    redisRequests: number;
    /** CPU seconds each process group spent during the relay's run (`client`: the benchmark's own loops). */
    cpu: Record<string, number>;
    /** `loops` concurrent loops on the relay's 404 (no Redis, no auth): the runtime's own request ceiling. */
    noRedisRoute?: NoRedisRoute;
  }>;
}

export async function runLongPollSuite(
  runtimes: readonly RuntimeUnderTest[],
  stack: RelayBenchStack,
  phase: (text: string) => void,
): Promise<LongPollOutcome> {
  phase(`long-poll, ${LONG_POLL.loops} loops: direct Redis XREAD BLOCK`);
  const directPoll = await directLongPollTarget(stack.redisUrl, LONG_POLL.waitSeconds);
  await measureLongPoll(directPoll, channel("direct-poll-warm-up"), WARM_UP);
  const direct = await measureLongPoll(directPoll, channel("direct-poll"), LONG_POLL).finally(() =>
    directPoll.close(),
  );
  const results: LongPollOutcome["runtimes"] = [];
  for (const runtime of runtimes) {
    phase(`long-poll, ${LONG_POLL.loops} loops: relay on ${runtime.label}`);
    const target = relayLongPollTarget(runtime.relay.url, stack.authorization, LONG_POLL.waitSeconds);
    await measureLongPoll(target, channel(`${runtime.name}-poll-warm-up`), WARM_UP);
    const groups = { ...runtime.relay.processes(), proxy: [stack.proxyPid] };
    const redisBefore = await proxyRedisRequests(stack.proxyUrl);
    const cpuBefore = cpuByProcess(groups);
    const relay = await measureLongPoll(target, channel(`${runtime.name}-poll`), LONG_POLL);
    const cpu = cpuSpent(cpuBefore, cpuByProcess(groups));
    const redisRequests = (await proxyRedisRequests(stack.proxyUrl)) - redisBefore;
    const noRedisRoute = await measureNoRedisRoute(runtime.relay.url, phase);
    results.push({ runtime: runtime.name, label: runtime.label, relay, redisRequests, cpu, noRedisRoute });
  }
  return { plan: LONG_POLL, direct, runtimes: results };
}

/** Requests the proxy served that reach Redis (its /metrics; not /metrics, /healthz or preflights). */
async function proxyRedisRequests(proxyUrl: string): Promise<number> {
  return (await scrapeProxyMetrics(proxyUrl)).redisRequests;
}

async function measureNoRedisRoute(relayUrl: string, phase: (text: string) => void): Promise<NoRedisRoute> {
  phase(`${LONG_POLL.loops} loops on a route without Redis (the relay's 404)`);
  // The long-poll loops' client, one keep-alive socket per loop, so the ratio compares the routes, not clients.
  const connections = Array.from({ length: LONG_POLL.loops }, () => new HttpConnection(relayUrl));
  const result = await runLoad({
    concurrency: LONG_POLL.loops,
    durationMs: NO_REDIS_ROUTE_MS,
    warmupMs: NO_REDIS_ROUTE_WARMUP_MS,
    async operation(worker) {
      const { status } = await (connections[worker] as HttpConnection).get("/bench-no-such-route");
      if (status !== 404) throw new Error(`the relay's unrouted path answered ${status}`);
    },
  }).finally(() => {
    for (const connection of connections) connection.close();
  });
  return { requestsPerSecond: result.opsPerSecond, p50: result.p50, p99: result.p99 };
}
