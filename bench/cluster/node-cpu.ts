import { cpuSeconds } from "../relay/proc.ts";
import type { BenchNode } from "./stack.ts";

/** CPU seconds each Redis node used during one measurement (from /proc, as the other benchmarks read servers). */
export interface NodeCpu {
  /** One entry per node, in the order given. */
  seconds: number[];
  total: number;
  busiest: number;
}

/** Starts counting the nodes' CPU time; the returned function gives the deltas since. */
export function countNodeCpu(nodes: readonly BenchNode[]): () => NodeCpu {
  const before = nodes.map((node) => cpuSeconds(node.pid));
  return () => {
    const seconds = nodes.map((node, index) => cpuSeconds(node.pid) - (before[index] ?? 0));
    return {
      seconds,
      total: seconds.reduce((sum, value) => sum + value, 0),
      busiest: Math.max(0, ...seconds),
    };
  };
}

/**
 * What the nodes would sustain with a core each: `operations` over the busiest node's CPU seconds (that node
 * saturates first). With operations spread evenly over the shards this is per-shard throughput × shards; with
 * work every node repeats (classic PUBLISH is broadcast to every node) it stays near one node's throughput.
 */
export function projectedPerSecond(operations: number, cpu: NodeCpu): number {
  return cpu.busiest > 0 ? operations / cpu.busiest : Number.NaN;
}

/** Each node's share of the nodes' CPU time: "34/33/33%". */
export function cpuShares(cpu: NodeCpu): string {
  if (cpu.total <= 0) return "n/a";
  return `${cpu.seconds.map((value) => Math.round((value / cpu.total) * 100)).join("/")}%`;
}
