import { markdownTable } from "../lib/table.ts";
import type { StreamFloor } from "./floor.ts";
import type { OpenLoopResult } from "./open-loop.ts";
import type { OpenLoopOutcome } from "./open-loop-suite.ts";
import { kib } from "./report-cells.ts";
import { ratio } from "./stats.ts";

/** RSS growth per open stream (bytes) of each process group of a side, or undefined when not measured. */
export function perStreamByProcess(result: OpenLoopResult): Record<string, number> | undefined {
  const memory = result.memory;
  if (!memory) return undefined;
  const streams = result.plan.subscribers;
  return Object.fromEntries(
    Object.entries(memory.open).map(([name, open]) => [name, (open - (memory.before[name] ?? 0)) / streams]),
  );
}

/** Total RSS growth per open stream (bytes) over every process of a side. */
export function perStream(result: OpenLoopResult): number | undefined {
  const byProcess = perStreamByProcess(result);
  return byProcess && Object.values(byProcess).reduce((sum, bytes) => sum + bytes, 0);
}

/** The bare held stream's cost per stream under wrangler dev (entry + worker workerd). */
export const bareStreamBytes = (floor: StreamFloor) => floor.entry + floor.worker;

/**
 * Memory per open stream, read in the 1000-subscriber scenario: VmRSS of each side's processes before opening the
 * streams and with all open (after a pause to settle), divided by the number of streams.
 */
export function memorySection(outcome: OpenLoopOutcome, bareStream: StreamFloor | undefined): string {
  const direct = perStream(outcome.direct) ?? Number.NaN;
  const rows: string[][] = [];
  const add = (label: string, result: OpenLoopResult, floor: number | undefined) => {
    const total = perStream(result) ?? Number.NaN;
    const parts = Object.entries(perStreamByProcess(result) ?? {})
      .map(([name, bytes]) => `${name} ${kib(bytes)}`)
      .join(", ");
    rows.push([
      label,
      kib(total),
      floor === undefined ? "–" : ratio(total, floor),
      ratio(total, direct),
      parts,
    ]);
  };
  add("direct Redis (redis-server per SUBSCRIBE connection)", outcome.direct, undefined);
  for (const { floor, relay } of outcome.runtimes) {
    const floorBytes = perStream(floor);
    add(floor.label, floor, undefined);
    add(`${relay.label} (relay + proxy)`, relay, floorBytes);
  }
  if (bareStream) {
    const bare = bareStreamBytes(bareStream);
    rows.push([
      "bare held stream under wrangler dev (a worker that only holds it)",
      kib(bare),
      "–",
      ratio(bare, direct),
      `workerd (wrangler entry) ${kib(bareStream.entry)}, workerd (worker) ${kib(bareStream.worker)}`,
    ]);
  }
  return (
    `### Memory per open stream (${outcome.scenario.plan.subscribers} streams: VmRSS with all open minus before, per stream)\n\n` +
    "The relay's rows count the relay's processes and the proxy; `vs floor` compares with the same runtime's " +
    "fan-out floor. Under wrangler dev both count wrangler's entry workerd, which production Workers does not have.\n\n" +
    markdownTable(["path", "KiB per stream", "vs floor", "vs direct", "by process (KiB)"], rows)
  );
}
