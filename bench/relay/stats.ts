import { LatencySamples } from "../lib/latency.ts";

/** Nearest-rank percentile (p in 0..100) of samples collected as an array; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  const collected = new LatencySamples();
  for (const sample of samples) collected.add(sample);
  return collected.percentile(p);
}

export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

/** `value / baseline` as "12.30×": the relay's figures are often many times the baseline, so not a percentage. */
export function ratio(value: number, baseline: number): string {
  return Number.isFinite(value) && Number.isFinite(baseline) && baseline > 0
    ? `${(value / baseline).toFixed(2)}×`
    : "n/a";
}
