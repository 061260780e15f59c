import { RUNTIMES, type RuntimeName } from "./runtimes.ts";

/** The relay benchmark's scenarios, in the order they run. */
export const SCENARIOS = [
  "round-trips",
  "legs",
  "open-100",
  "open-1000",
  "flat-out",
  "long-poll",
  "closed",
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** What one run measures, from the environment (see docs/benchmarks.md#choosing-what-runs). */
export interface RelayBenchSelection {
  runtimes: RuntimeName[];
  scenarios: ScenarioName[];
  /** Multiplies every scenario's message count (a quick run: 0.2). */
  scale: number;
  /** Settings for every relay under test, on top of the defaults (e.g. RELAY_HUB=off). */
  relayEnv: Record<string, string>;
  /** Closed-loop fan-out sizes. */
  closedSubscribers: number[];
}

export function selectionFromEnv(env: NodeJS.ProcessEnv = process.env): RelayBenchSelection {
  return {
    runtimes: list("BENCH_RELAY_RUNTIMES", env.BENCH_RELAY_RUNTIMES, RUNTIMES),
    scenarios: list("BENCH_RELAY_SCENARIOS", env.BENCH_RELAY_SCENARIOS, SCENARIOS),
    scale: scale(env.BENCH_RELAY_SCALE),
    relayEnv: relayEnv(env.BENCH_RELAY_ENV),
    closedSubscribers: subscriberCounts(env.BENCH_RELAY_SUBSCRIBERS),
  };
}

function list<T extends string>(name: string, raw: string | undefined, known: readonly T[]): T[] {
  if (!raw) return [...known];
  const wanted = raw.split(",").map((part) => part.trim());
  const unknown = wanted.filter((item) => !known.includes(item as T));
  if (unknown.length > 0 || wanted.length === 0)
    throw new Error(`${name}: unknown ${JSON.stringify(unknown.join(","))}; choose from ${known.join(",")}`);
  // Run order is the canonical one, whatever order was asked.
  return known.filter((item) => wanted.includes(item));
}

function scale(raw: string | undefined): number {
  if (!raw) return 1;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 10)
    throw new Error(`BENCH_RELAY_SCALE must be a number in (0, 10], got ${JSON.stringify(raw)}`);
  return value;
}

/** `RELAY_HUB=off,RELAY_HEARTBEAT_MS=5000`: only RELAY_* names, which is what the relays read. */
function relayEnv(raw: string | undefined): Record<string, string> {
  const settings: Record<string, string> = {};
  if (!raw) return settings;
  for (const pair of raw.split(",")) {
    const match = /^\s*(RELAY_[A-Z0-9_]+)=(.*?)\s*$/.exec(pair);
    if (!match?.[1] || match[2] === undefined)
      throw new Error(
        `BENCH_RELAY_ENV takes RELAY_NAME=value pairs separated by commas, got ${JSON.stringify(pair)}`,
      );
    settings[match[1]] = match[2];
  }
  return settings;
}

function subscriberCounts(raw: string | undefined): number[] {
  if (!raw) return [1, 100, 1000];
  const counts = raw.split(",").map((part) => Number(part.trim()));
  if (counts.some((count) => !Number.isInteger(count) || count < 1 || count > 5000)) {
    throw new Error(
      `BENCH_RELAY_SUBSCRIBERS must be comma-separated integers 1..5000, got ${JSON.stringify(raw)}`,
    );
  }
  return counts;
}
