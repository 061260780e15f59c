import { LatencySamples } from "../lib/latency.ts";

export interface OpenRateResult {
  /** Operations scheduled (rate × duration). */
  scheduled: number;
  completed: number;
  failed: number;
  /** Completed operations per second of wall time, from the first due time to the last completion. */
  achievedPerSecond: number;
  /** Milliseconds from each operation's due time to its completion: a server that falls behind shows here. */
  p50: number;
  p99: number;
  /** Seconds from the first due time to the last completion. */
  seconds: number;
}

/**
 * Open-loop load: operation `i` is due at start + i / rate, whatever the previous ones are doing, and its
 * latency counts from that due time (no coordinated omission). At most `maxInFlight` operations run at once;
 * beyond that a due operation waits, and its wait is in its latency.
 */
export async function runOpenRate(options: {
  rate: number;
  durationMs: number;
  operation: (index: number) => Promise<unknown>;
  maxInFlight?: number;
}): Promise<OpenRateResult> {
  const { rate, durationMs, operation } = options;
  const maxInFlight = options.maxInFlight ?? 512;
  const scheduled = Math.max(1, Math.round((rate * durationMs) / 1000));
  const latencies = new LatencySamples();
  const start = performance.now();
  let completed = 0;
  let failed = 0;
  let inFlight = 0;
  let lastDone = start;
  let freed: (() => void) | undefined;
  const running: Array<Promise<void>> = [];
  for (let index = 0; index < scheduled; index++) {
    const due = start + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight >= maxInFlight) await new Promise<void>((resolve) => (freed = resolve));
    inFlight++;
    running.push(
      operation(index)
        .then(
          () => {
            completed++;
            latencies.add(performance.now() - due);
          },
          () => {
            failed++;
          },
        )
        .finally(() => {
          inFlight--;
          lastDone = performance.now();
          freed?.();
          freed = undefined;
        }),
    );
  }
  await Promise.all(running);
  const seconds = (lastDone - start) / 1000;
  return {
    scheduled,
    completed,
    failed,
    achievedPerSecond: completed / seconds,
    p50: latencies.percentile(50),
    p99: latencies.percentile(99),
    seconds,
  };
}
