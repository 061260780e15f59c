import { Redis } from "@upstash/redis";
import { type LoadResult, runInterleaved } from "../lib/load.ts";
import { cpuSeconds } from "../relay/proc.ts";
import { countNodeCpu, type NodeCpu } from "./node-cpu.ts";
import { type OpenRateResult, runOpenRate } from "./open-rate.ts";
import { allNodes, type Backend } from "./stack.ts";

const VALUE = "v".repeat(100);
/** 1000 keys without hash tags: CRC16 spreads them over all 16384 slots, so over every primary. */
export const KEYS = 1000;
const key = (index: number) => `bench:${index % KEYS}`;

export interface ClosedLoopRow {
  op: "GET" | "SET";
  concurrency: number;
  /** `load.cpuMicrosPerOp` is the proxy's CPU; `operations` (warm-up included) is what `redisCpu` covers. */
  results: Array<{ backend: Backend; load: LoadResult; operations: number; redisCpu: NodeCpu }>;
}

export interface OpenLoopRow {
  rate: number;
  results: Array<{ backend: Backend; load: OpenRateResult; redisCpu: NodeCpu }>;
}

/** @upstash/redis on one proxy, one HTTP request per command (auto-pipelining off: the proxy's worst case). */
export function upstashClient(proxyUrl: string, token: string): Redis {
  return new Redis({
    url: proxyUrl,
    token,
    enableAutoPipelining: false,
    retry: false,
    enableTelemetry: false,
    readYourWrites: false,
  });
}

/** Writes every benchmark key through the proxy (so GETs hit), on every backend. */
export async function seedKeys(backends: readonly Backend[], token: string): Promise<void> {
  for (const backend of backends) {
    const client = upstashClient(backend.proxyUrl, token);
    const pipeline = client.pipeline();
    for (let index = 0; index < KEYS; index++) pipeline.set(key(index), VALUE);
    await pipeline.exec();
  }
}

/**
 * Closed loop: `concurrency` clients run GET or SET back to back through each backend's proxy, in interleaved
 * rounds (single, cluster, single, ...). Redis CPU is read per node over the whole row (warm-up included, as the
 * operation count it is divided by).
 */
export async function measureClosedLoop(options: {
  backends: readonly Backend[];
  token: string;
  op: "GET" | "SET";
  concurrency: number;
  seconds: number;
  rounds: number;
}): Promise<ClosedLoopRow> {
  const { backends, token, op, concurrency } = options;
  // Every operation is counted (warm-up included), as the node CPU read around the whole row covers them all.
  const issued = backends.map(() => 0);
  const targets = backends.map((backend, index) => {
    const client = upstashClient(backend.proxyUrl, token);
    return {
      operation: (worker: number, n: number) => {
        issued[index] = (issued[index] ?? 0) + 1;
        const name = key(worker * 7919 + n);
        return op === "GET" ? client.get(name) : client.set(name, VALUE);
      },
      serverCpuSeconds: () => cpuSeconds(backend.proxyPid),
    };
  });
  // Interleaved rounds: while one backend runs, the other's nodes idle, so each backend's node CPU deltas over
  // the whole row are still its own work.
  const counters = backends.map((backend) => countNodeCpu(allNodes(backend)));
  const loads = await runInterleaved(targets, {
    concurrency,
    rounds: options.rounds,
    roundMs: (options.seconds * 1000) / options.rounds,
    warmupMs: 500,
  });
  return {
    op,
    concurrency,
    results: backends.map((backend, index) => ({
      backend,
      load: loads[index] as LoadResult,
      operations: issued[index] ?? 0,
      redisCpu: (counters[index] as () => NodeCpu)(),
    })),
  };
}

/** Open loop: SETs due at a fixed rate through each backend's proxy in turn, latency from the due time. */
export async function measureOpenLoop(options: {
  backends: readonly Backend[];
  token: string;
  rate: number;
  seconds: number;
}): Promise<OpenLoopRow> {
  const results: OpenLoopRow["results"] = [];
  for (const backend of options.backends) {
    const client = upstashClient(backend.proxyUrl, options.token);
    const counter = countNodeCpu(allNodes(backend));
    const load = await runOpenRate({
      rate: options.rate,
      durationMs: options.seconds * 1000,
      operation: (index) => client.set(key(index * 7919), VALUE),
    });
    results.push({ backend, load, redisCpu: counter() });
  }
  return { rate: options.rate, results };
}
