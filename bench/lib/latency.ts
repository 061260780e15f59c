/** Latency samples in milliseconds, summarised as nearest-rank percentiles. */
export class LatencySamples {
  private readonly samples: number[] = [];

  add(milliseconds: number): void {
    this.samples.push(milliseconds);
  }

  get count(): number {
    return this.samples.length;
  }

  /** p in 0..100; NaN without samples. */
  percentile(p: number): number {
    if (this.samples.length === 0) return Number.NaN;
    const sorted = Float64Array.from(this.samples).sort();
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
    return sorted[rank - 1] ?? Number.NaN;
  }
}

/** Milliseconds as a short figure: "0.42", "12.3", "1530". */
export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return value.toFixed(0);
}

/** A rate with thousands separators: "48,210". */
export function formatRate(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a";
}

/** "83%" of a baseline, or "n/a". */
export function formatShare(value: number, baseline: number): string {
  return Number.isFinite(value) && Number.isFinite(baseline) && baseline > 0
    ? `${Math.round((value / baseline) * 100)}%`
    : "n/a";
}
