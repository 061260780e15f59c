import { LatencySamples } from "./latency.ts";

export interface LoadResult {
  operations: number;
  seconds: number;
  opsPerSecond: number;
  p50: number;
  p99: number;
  /** CPU time the serving process spent per operation, in microseconds (NaN when not measured). */
  cpuMicrosPerOp: number;
}

/** One target of an interleaved run: the operation, and optionally the CPU seconds its server has used so far. */
export interface LoadTarget {
  operation: (worker: number, index: number) => Promise<unknown>;
  serverCpuSeconds?: () => number;
}

/**
 * Closed-loop load: `concurrency` workers each run `operation` back to back until `durationMs` has passed
 * (after `warmupMs` whose operations are not counted). Every operation's latency is recorded.
 */
export async function runLoad(options: {
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  operation: (worker: number, index: number) => Promise<unknown>;
  /** Samples to add to (to pool several rounds); a fresh set by default. */
  latencies?: LatencySamples;
}): Promise<LoadResult & { latencies: LatencySamples; allOperations: number }> {
  const { concurrency, durationMs, warmupMs, operation } = options;
  const warmupEnds = performance.now() + warmupMs;
  const latencies = options.latencies ?? new LatencySamples();
  let measuring = false;
  let measuredStart = 0;
  let stopAt = Number.POSITIVE_INFINITY;
  let operations = 0;
  let allOperations = 0; // warm-up included: what a server's CPU time covers
  const worker = async (id: number) => {
    let index = 0;
    for (;;) {
      const started = performance.now();
      if (started >= stopAt) return;
      if (!measuring && started >= warmupEnds) {
        measuring = true;
        measuredStart = started;
        stopAt = started + durationMs;
      }
      const counted = measuring;
      await operation(id, index++);
      allOperations++;
      if (counted) {
        latencies.add(performance.now() - started);
        operations++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, id) => worker(id)));
  const seconds = (performance.now() - measuredStart) / 1000;
  return { ...summary(operations, seconds, latencies), allOperations };
}

/**
 * Runs several targets in interleaved rounds (A B C, A B C, ...) and pools each target's rounds, so a
 * machine whose load drifts during the run (shared cores) does not favour whichever target ran first.
 */
export async function runInterleaved(
  targets: readonly LoadTarget[],
  options: { concurrency: number; rounds: number; roundMs: number; warmupMs: number },
): Promise<LoadResult[]> {
  const pooled = targets.map(() => ({
    operations: 0,
    allOperations: 0,
    seconds: 0,
    cpu: 0,
    latencies: new LatencySamples(),
  }));
  for (let round = 0; round < options.rounds; round++) {
    for (const [index, { operation, serverCpuSeconds }] of targets.entries()) {
      const total = pooled[index] as (typeof pooled)[number];
      const cpuBefore = serverCpuSeconds?.() ?? Number.NaN;
      const result = await runLoad({
        concurrency: options.concurrency,
        durationMs: options.roundMs,
        warmupMs: round === 0 ? options.warmupMs : Math.min(200, options.warmupMs),
        operation,
        latencies: total.latencies,
      });
      total.operations += result.operations;
      total.seconds += result.seconds;
      total.allOperations += result.allOperations;
      total.cpu += (serverCpuSeconds?.() ?? Number.NaN) - cpuBefore;
    }
  }
  return pooled.map((total) => ({
    ...summary(total.operations, total.seconds, total.latencies),
    cpuMicrosPerOp: (total.cpu / total.allOperations) * 1e6,
  }));
}

function summary(operations: number, seconds: number, latencies: LatencySamples) {
  return {
    operations,
    seconds,
    opsPerSecond: operations / seconds,
    p50: latencies.percentile(50),
    p99: latencies.percentile(99),
    cpuMicrosPerOp: Number.NaN,
    latencies,
  };
}
