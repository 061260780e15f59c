import { formatMs, formatRate, formatShare } from "../lib/latency.ts";
import { markdownTable } from "../lib/table.ts";
import { cpuShares, type NodeCpu, projectedPerSecond } from "./node-cpu.ts";
import type { ClosedLoopRow, OpenLoopRow } from "./proxy-load.ts";
import type { FanoutResult } from "./pubsub-fanout.ts";
import type { RelayPublishResult } from "./relay-publish.ts";

export interface ClusterReportInput {
  primaries: number;
  replicasPerPrimary: number;
  seconds: number;
  closedLoop: ClosedLoopRow[];
  openLoop: OpenLoopRow[];
  relayPublish: RelayPublishResult[];
  /** `shards`: primaries of the backend the row ran on. */
  fanout: Array<{ label: string; result: FanoutResult; shards: number }>;
}

const micros = (cpu: NodeCpu, operations: number) =>
  operations > 0 ? ((cpu.total / operations) * 1e6).toFixed(0) : "n/a";
/** "3 × 22,646 = 67,938": per-shard throughput × shards, from the busiest node's CPU (see projectedPerSecond). */
const projection = (operations: number, cpu: NodeCpu, shards: number) => {
  const total = projectedPerSecond(operations, cpu);
  return shards > 1 ? `${shards} × ${formatRate(total / shards)} = ${formatRate(total)}` : formatRate(total);
};
const losses = (check: { lost: number; duplicates: number; outOfOrder: number }) =>
  `${check.lost}/${check.duplicates}/${check.outOfOrder}`;

/** The cluster benchmark's markdown: four tables, each with the single Redis of the same run as baseline. */
export function renderClusterReport(input: ClusterReportInput): { markdown: string; zeroLoss: boolean } {
  const shape = `${input.primaries} primaries, ${input.replicasPerPrimary === 0 ? "no replicas" : `${input.replicasPerPrimary} replica(s) each`}`;
  const projectionNote =
    "Projected: the Redis nodes' throughput with a core each, = operations ÷ the busiest node's CPU seconds " +
    "(CPU from /proc per redis-server over the row, warm-up included; shares list primaries, then replicas); with an even spread that is per-shard " +
    "throughput × shards. Redis CPU per operation is measured below saturation (a busy Redis batches more and " +
    "spends less per operation), so the projections are lower bounds. It covers the Redis tier only: proxies and relays are stateless and scale out beside it.";

  const closed = markdownTable(
    [
      "op",
      "clients",
      "backend",
      "ops/s",
      "p50 ms",
      "p99 ms",
      "vs single",
      "proxy CPU µs/op",
      "Redis CPU µs/op",
      "node CPU shares",
      "projected Redis ops/s (shards × per shard)",
    ],
    input.closedLoop.flatMap((row) => {
      const single = row.results[0]?.load.opsPerSecond ?? Number.NaN;
      return row.results.map(({ backend, load, operations, redisCpu }) => [
        row.op,
        String(row.concurrency),
        backend.label,
        formatRate(load.opsPerSecond),
        formatMs(load.p50),
        formatMs(load.p99),
        formatShare(load.opsPerSecond, single),
        Number.isFinite(load.cpuMicrosPerOp) ? load.cpuMicrosPerOp.toFixed(0) : "n/a",
        micros(redisCpu, operations),
        cpuShares(redisCpu),
        projection(operations, redisCpu, backend.primaries.length),
      ]);
    }),
  );
  const open = markdownTable(
    [
      "SET/s due",
      "backend",
      "achieved/s",
      "p50 ms (from due)",
      "p99 ms",
      "failed",
      "Redis CPU µs/op",
      "node CPU shares",
    ],
    input.openLoop.flatMap((row) =>
      row.results.map(({ backend, load, redisCpu }) => [
        formatRate(row.rate),
        backend.label,
        formatRate(load.achievedPerSecond),
        formatMs(load.p50),
        formatMs(load.p99),
        String(load.failed),
        micros(redisCpu, load.completed),
        cpuShares(redisCpu),
      ]),
    ),
  );
  const relaySingle = input.relayPublish[0]?.publishesPerSecond ?? Number.NaN;
  const relay = markdownTable(
    [
      "backend",
      "channels",
      "clients",
      "publishes/s",
      "p50 ms",
      "p99 ms",
      "vs single",
      "lost/dup/order",
      "resets",
      "relay µs/pub",
      "proxy µs/pub",
      "Redis µs/pub",
      "node CPU shares",
      "projected Redis publishes/s (shards × per shard)",
    ],
    input.relayPublish.map((result) => [
      result.backend.label,
      String(result.channels),
      String(result.concurrency),
      formatRate(result.publishesPerSecond),
      formatMs(result.p50),
      formatMs(result.p99),
      formatShare(result.publishesPerSecond, relaySingle),
      losses(result.check),
      String(result.resets),
      result.relayMicrosPerPublish.toFixed(0),
      result.proxyMicrosPerPublish.toFixed(0),
      micros(result.redisCpu, result.acknowledged),
      cpuShares(result.redisCpu),
      projection(result.acknowledged, result.redisCpu, result.backend.primaries.length),
    ]),
  );
  // Each plan's baseline is its own single-Redis row (the first of the plan's rows).
  const fanoutSingle = (result: FanoutResult) =>
    input.fanout.find((row) => row.result.plan === result.plan)?.result.deliveriesPerSecond ?? Number.NaN;
  const fanout = markdownTable(
    [
      "backend, mode",
      "channels × subscribers",
      "publishes/s",
      "deliveries/s",
      "vs single",
      "lost/dup/order",
      "Redis CPU µs/publish",
      "node CPU shares",
      "projected publishes/s (shards × per shard)",
    ],
    input.fanout.map(({ label, result, shards }) => [
      label,
      `${result.plan.channels} × ${result.plan.subscribersPerChannel}`,
      formatRate(result.publishesPerSecond),
      formatRate(result.deliveriesPerSecond),
      formatShare(result.deliveriesPerSecond, fanoutSingle(result)),
      losses(result.check),
      micros(result.cpu, result.plan.messages),
      cpuShares(result.cpu),
      projection(result.plan.messages, result.cpu, shards),
    ]),
  );
  const zeroLoss =
    input.relayPublish.every(
      (result) => result.check.lost + result.check.duplicates === 0 && result.resets === 0,
    ) && input.fanout.every(({ result }) => result.check.lost + result.check.duplicates === 0);
  const markdown = [
    `### Redis Cluster (${shape}) beside one redis-server, same run (${input.seconds} s per row)`,
    "#### Proxy: @upstash/redis GET/SET through the proxy, closed loop (keys over all slots, interleaved rounds)",
    closed,
    "#### Proxy: SET at fixed rates (open loop, latency from each command's due time)",
    open,
    "#### Relay on Node: publish over many channels (one SSE subscriber per channel checks every acknowledged message)",
    relay,
    "#### Fan-out straight to Redis (ioredis): classic PUBLISH vs sharded SPUBLISH, publisher on each channel's owner",
    fanout,
    "Sharded pub/sub through the relay: not measured, the relay cannot use it (it subscribes through the " +
      "proxy's /subscribe and /psubscribe, classic like Upstash's REST API; docs/proxy.md, \"Redis Cluster\").",
    projectionNote,
    `Zero loss (relay and fan-out): ${zeroLoss ? "met" : "MISSED"}`,
  ].join("\n\n");
  return { markdown, zeroLoss };
}
