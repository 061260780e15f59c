import { cpuSeconds, totalResidentBytes } from "./proc.ts";

/** Pause before each memory reading so buffers and lazily grown heaps settle. */
const MEMORY_SETTLE_MS = 1500;

/** CPU seconds used so far per named process group, plus this process (the benchmark's clients). */
export function cpuByProcess(groups: Record<string, number[]>): Record<string, number> {
  const { user, system } = process.cpuUsage();
  const used: Record<string, number> = { client: (user + system) / 1e6 };
  for (const [name, pids] of Object.entries(groups))
    used[name] = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  return used;
}

/** CPU seconds each group spent between two readings of `cpuByProcess`. */
export function cpuSpent(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([name, used]) => [name, used - (before[name] ?? 0)]));
}

/** Server-side CPU seconds of a reading: every group except the benchmark's own `client`. */
export function serverCpu(cpu: Record<string, number>): number {
  return Object.entries(cpu).reduce((sum, [name, used]) => (name === "client" ? sum : sum + used), 0);
}

/** RSS per named process group, read after a pause so buffers and lazily grown heaps settle. */
export async function settledRss(groups: Record<string, number[]>): Promise<Record<string, number>> {
  await new Promise((done) => setTimeout(done, MEMORY_SETTLE_MS));
  return Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, totalResidentBytes(pids)]));
}
