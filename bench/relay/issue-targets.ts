import type { StreamFloor } from "./floor.ts";
import type { LongPollOutcome } from "./long-poll-suite.ts";
import { bareStreamBytes, perStream } from "./memory-report.ts";
import type { OpenLoopResult } from "./open-loop.ts";
import type { OpenLoopOutcome, OpenLoopScenarioName } from "./open-loop-suite.ts";
import type { RuntimeName } from "./runtimes.ts";
import { fixed, percentile, ratio } from "./stats.ts";

/** A target's verdict; `met` is undefined when this run did not measure what it needs (a subset run). */
export interface Verdict {
  target: string;
  met: boolean | undefined;
  detail: string;
}

/**
 * The delivery hub's targets, each a ratio to a baseline measured in the same run (docs/benchmarks.md#targets):
 * Node and Deno against their fan-out floor, Workers against the Durable Object floor and a bare held stream,
 * long-poll against XREAD BLOCK loops (Node, Deno) or a route without Redis (Workers).
 */
const LIMITS: Record<RuntimeName, { p99: number; p99Scenarios: OpenLoopScenarioName[]; longPoll: number }> = {
  node: { p99: 2, p99Scenarios: ["open-100", "open-1000"], longPoll: 0.25 },
  deno: { p99: 2, p99Scenarios: ["open-100", "open-1000"], longPoll: 0.25 },
  workers: { p99: 1.5, p99Scenarios: ["open-100"], longPoll: 0.5 },
};
const FLAT_OUT_SHARE = 0.5;
const MEMORY_FACTOR = 1.5;

export interface TargetInputs {
  runtimes: readonly RuntimeName[];
  labels: Record<string, string>;
  openLoop: ReadonlyMap<OpenLoopScenarioName, OpenLoopOutcome>;
  bareStream: StreamFloor | undefined;
  longPoll: LongPollOutcome | undefined;
}

export function issueTargets(inputs: TargetInputs): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const runtime of inputs.runtimes) {
    const label = inputs.labels[runtime] ?? runtime;
    const limits = LIMITS[runtime];
    const floorName = runtime === "workers" ? "the Durable Object floor" : "the floor";
    const sides = (scenario: OpenLoopScenarioName) => {
      const outcome = inputs.openLoop.get(scenario);
      const entry = outcome?.runtimes.find((candidate) => candidate.runtime === runtime);
      return outcome && entry ? { ...entry, direct: outcome.direct } : undefined;
    };
    for (const scenario of limits.p99Scenarios) {
      const found = sides(scenario);
      const target = `${label}: p99 at ${scenario} ≤ ${limits.p99}× ${floorName}'s`;
      verdicts.push(
        found
          ? p99Verdict(target, limits.p99, found.relay, found.floor, found.direct)
          : notRun(target, scenario),
      );
    }
    const flat = sides("flat-out");
    const flatTarget = `${label}: flat-out deliveries/s ≥ ${FLAT_OUT_SHARE}× ${floorName}'s`;
    verdicts.push(
      flat
        ? {
            target: flatTarget,
            met: flat.relay.deliveriesPerSecond >= FLAT_OUT_SHARE * flat.floor.deliveriesPerSecond,
            detail:
              `relay ${fixed(flat.relay.deliveriesPerSecond, 0)}/s vs floor ${fixed(flat.floor.deliveriesPerSecond, 0)}/s = ` +
              `${ratio(flat.relay.deliveriesPerSecond, flat.floor.deliveriesPerSecond)}; direct Redis ` +
              `${fixed(flat.direct.deliveriesPerSecond, 0)}/s (relay ${ratio(flat.relay.deliveriesPerSecond, flat.direct.deliveriesPerSecond)})`,
          }
        : notRun(flatTarget, "flat-out"),
    );
    verdicts.push(memoryVerdict(runtime, label, sides("open-1000"), inputs.bareStream));
    verdicts.push(longPollVerdict(runtime, label, limits.longPoll, inputs.longPoll));
  }
  return verdicts;
}

function p99Verdict(
  target: string,
  limit: number,
  relay: OpenLoopResult,
  floor: OpenLoopResult,
  direct: OpenLoopResult,
): Verdict {
  const [r, f, d] = [relay, floor, direct].map((result) => percentile(result.latencies, 99)) as [
    number,
    number,
    number,
  ];
  return {
    target,
    met: r <= limit * f,
    detail: `relay ${fixed(r)} ms vs floor ${fixed(f)} ms = ${ratio(r, f)}; direct Redis ${fixed(d)} ms (relay ${ratio(r, d)})`,
  };
}

function memoryVerdict(
  runtime: RuntimeName,
  label: string,
  found: { relay: OpenLoopResult; floor: OpenLoopResult; direct: OpenLoopResult } | undefined,
  bareStream: StreamFloor | undefined,
): Verdict {
  const baselineName = runtime === "workers" ? "a bare held stream's" : "the floor's";
  const target = `${label}: memory per open stream (relay + proxy) ≤ ${MEMORY_FACTOR}× ${baselineName}`;
  const relay = found && perStream(found.relay);
  const baseline =
    runtime === "workers" ? bareStream && bareStreamBytes(bareStream) : found && perStream(found.floor);
  if (relay === undefined || baseline === undefined) return notRun(target, "open-1000");
  const direct = perStream(found?.direct as OpenLoopResult) ?? Number.NaN;
  const kib = (bytes: number) => `${fixed(bytes / 1024, 1)} KiB`;
  return {
    target,
    met: relay <= MEMORY_FACTOR * baseline,
    detail: `relay ${kib(relay)} vs ${kib(baseline)} = ${ratio(relay, baseline)}; redis-server per SUBSCRIBE ${kib(direct)} (relay ${ratio(relay, direct)})`,
  };
}

function longPollVerdict(
  runtime: RuntimeName,
  label: string,
  share: number,
  longPoll: LongPollOutcome | undefined,
): Verdict {
  const baselineName =
    runtime === "workers" ? "a route without Redis under the same wrangler dev" : "XREAD BLOCK loops";
  const target = `${label}: long-poll requests/s (100 loops) ≥ ${share}× ${baselineName}`;
  const entry = longPoll?.runtimes.find((candidate) => candidate.runtime === runtime);
  if (!longPoll || !entry) return notRun(target, "long-poll");
  const direct = longPoll.direct.requestsPerSecond;
  const baseline = runtime === "workers" ? entry.noRedisRoute?.requestsPerSecond : direct;
  if (baseline === undefined) return notRun(target, "long-poll");
  const relay = entry.relay.requestsPerSecond;
  return {
    target,
    met: relay >= share * baseline,
    detail: `relay ${fixed(relay, 0)}/s vs ${fixed(baseline, 0)}/s = ${ratio(relay, baseline)}; XREAD BLOCK ${fixed(direct, 0)}/s (relay ${ratio(relay, direct)})`,
  };
}

function notRun(target: string, scenario: string): Verdict {
  return { target, met: undefined, detail: `not measured in this run (needs scenario ${scenario})` };
}
