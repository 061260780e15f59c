/**
 * Redis Cluster benchmark (docs/benchmarks.md, "Redis Cluster"): a local cluster (3 primaries, no replicas by
 * default) beside one redis-server in the same run, each behind its own REST proxy and relay on Node.
 * Measures proxy throughput (closed loop and fixed rates), relay publish throughput over 64 channels, and
 * fan-out with classic vs sharded pub/sub straight to Redis; prints ratios against the single Redis and the
 * Redis tier's projected scale-out from each node's CPU time. Target: zero loss (on two cores the cluster
 * cannot be faster than one Redis; the tables show what it costs).
 *
 * Run: `npm run bench -- cluster`. Settings:
 * BENCH_CLUSTER_SECONDS (each row's length, default 3), BENCH_CLUSTER_REPLICAS (replicas per primary, default 0).
 */
import { randomBytes } from "node:crypto";
import {
  type ClosedLoopRow,
  measureClosedLoop,
  measureOpenLoop,
  type OpenLoopRow,
  seedKeys,
} from "./cluster/proxy-load.ts";
import { type FanoutPlan, type FanoutResult, measureDirectFanout } from "./cluster/pubsub-fanout.ts";
import { measureRelayPublish, type RelayPublishResult } from "./cluster/relay-publish.ts";
import { renderClusterReport } from "./cluster/report.ts";
import { allNodes, startClusterBenchStack } from "./cluster/stack.ts";
import type { BenchReport } from "./lib/module.ts";

export const name = "cluster";

const PRIMARIES = 3;
const OPEN_RATES = [500, 1500, 3000];
const RELAY_CHANNELS = 64;
const RELAY_CLIENTS = 32;
/**
 * Two shapes: the relay's (many channels, one subscriber each: the proxy's shared subscription per channel) and
 * a wide fan-out (few channels, several subscribers each).
 */
const FANOUT_PLANS: readonly FanoutPlan[] = [
  { channels: 96, subscribersPerChannel: 1, messages: 60_000, publishers: 32 },
  { channels: 24, subscribersPerChannel: 8, messages: 30_000, publishers: 32 },
];

export async function run(log: (line: string) => void = (line) => console.log(line)): Promise<BenchReport> {
  const seconds = Number(process.env.BENCH_CLUSTER_SECONDS ?? 3);
  const replicasPerPrimary = Number(process.env.BENCH_CLUSTER_REPLICAS ?? 0);
  const started = performance.now();
  const phase = (text: string) => log(`  [${((performance.now() - started) / 1000).toFixed(0)} s] ${text}`);
  phase(
    `starting one redis-server and a cluster of ${PRIMARIES} primaries (${replicasPerPrimary} replicas each), a proxy and a relay on Node for each`,
  );
  const stack = await startClusterBenchStack({ primaries: PRIMARIES, replicasPerPrimary, relay: true });
  const run = randomBytes(3).toString("hex");
  try {
    const backends = [stack.single, stack.cluster];
    await seedKeys(backends, stack.proxyToken);
    const closedLoop: ClosedLoopRow[] = [];
    for (const op of ["GET", "SET"] as const) {
      phase(`proxy ${op}, 64 clients, closed loop: single Redis vs cluster`);
      closedLoop.push(
        await measureClosedLoop({
          backends,
          token: stack.proxyToken,
          op,
          concurrency: 64,
          seconds,
          rounds: 3,
        }),
      );
    }
    const openLoop: OpenLoopRow[] = [];
    for (const rate of OPEN_RATES) {
      phase(`proxy SET at ${rate}/s, open loop: single Redis, then cluster`);
      openLoop.push(await measureOpenLoop({ backends, token: stack.proxyToken, rate, seconds }));
    }
    const relayPublish: RelayPublishResult[] = [];
    for (const backend of backends) {
      phase(`relay publish over ${RELAY_CHANNELS} channels, ${RELAY_CLIENTS} clients: ${backend.label}`);
      relayPublish.push(
        await measureRelayPublish({
          backend,
          authorization: stack.authorization,
          channels: RELAY_CHANNELS,
          concurrency: RELAY_CLIENTS,
          seconds,
          prefix: `bench.cluster.${run}.${backend.label === "cluster" ? "c" : "s"}`,
        }),
      );
    }
    const fanout: Array<{ label: string; result: FanoutResult; shards: number }> = [];
    for (const plan of FANOUT_PLANS) {
      for (const [label, backend, mode] of [
        ["single Redis, classic", stack.single, "classic"],
        ["cluster, classic", stack.cluster, "classic"],
        ["cluster, sharded", stack.cluster, "sharded"],
      ] as const) {
        phase(
          `fan-out ${plan.channels} channels × ${plan.subscribersPerChannel} subscribers, ${plan.messages} messages: ${label}`,
        );
        const prefix = `bench.fanout.${run}.${fanout.length}`;
        const nodes = backend.primaries;
        const result = await measureDirectFanout({ nodes, cpuNodes: allNodes(backend), mode, plan, prefix });
        fanout.push({ label, result, shards: nodes.length });
      }
    }
    phase("done");
    const report = renderClusterReport({
      primaries: PRIMARIES,
      replicasPerPrimary,
      seconds,
      closedLoop,
      openLoop,
      relayPublish,
      fanout,
    });
    return { markdown: report.markdown, targetsMet: report.zeroLoss };
  } finally {
    await stack.stop();
  }
}
