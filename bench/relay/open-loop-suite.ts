import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { openDirectSubscribers } from "./direct-redis.ts";
import { type OpenLoopPlan, type OpenLoopResult, runOpenLoop, type Tap } from "./open-loop.ts";
import { openProxyTap } from "./proxy-tap.ts";
import type { RuntimeName, RuntimeUnderTest } from "./runtimes.ts";
import type { RelayBenchStack } from "./stack.ts";
import { directTarget, floorTarget, parseJson, relayTarget, seqOf } from "./targets.ts";

export type OpenLoopScenarioName = "legs" | "open-100" | "open-1000" | "flat-out";

export interface OpenLoopScenario {
  name: OpenLoopScenarioName;
  title: string;
  plan: OpenLoopPlan;
  /** Direct Redis publishes this many times more messages flat out: its window would be lost in timer noise. */
  directMessageFactor: number;
  /** RSS before and with every subscriber open, per side (memory per open stream). */
  measureMemory: boolean;
  /** Redis and proxy taps on the relay's channel: the per-leg split of one message. */
  taps: boolean;
}

export interface RuntimeOpenLoop {
  runtime: RuntimeName;
  label: string;
  floor: OpenLoopResult;
  relay: OpenLoopResult;
}

export interface OpenLoopOutcome {
  scenario: OpenLoopScenario;
  direct: OpenLoopResult;
  runtimes: RuntimeOpenLoop[];
}

/** The open-loop plans, message counts scaled by BENCH_RELAY_SCALE (never below 20 measured messages). */
export function openLoopScenarios(scale: number): Record<OpenLoopScenarioName, OpenLoopScenario> {
  const messages = (count: number) => Math.max(20, Math.round(count * scale));
  return {
    legs: {
      name: "legs",
      title: "One subscriber, 50 msg/s: where one message's time goes",
      plan: { subscribers: 1, rate: 50, messages: messages(200), warmup: 20 },
      directMessageFactor: 1,
      measureMemory: false,
      taps: true,
    },
    "open-100": {
      name: "open-100",
      title: "100 subscribers × 50 msg/s",
      plan: { subscribers: 100, rate: 50, messages: messages(500), warmup: 5 },
      directMessageFactor: 1,
      measureMemory: false,
      taps: false,
    },
    "open-1000": {
      name: "open-1000",
      title: "1000 subscribers × 10 msg/s",
      plan: { subscribers: 1000, rate: 10, messages: messages(200), warmup: 3 },
      directMessageFactor: 1,
      measureMemory: true,
      taps: false,
    },
    "flat-out": {
      name: "flat-out",
      title: "100 subscribers, flat out (each publish as soon as the last was accepted)",
      plan: { subscribers: 100, rate: "flat-out", messages: messages(1000), warmup: 5 },
      directMessageFactor: 5,
      measureMemory: false,
      taps: false,
    },
  };
}

/**
 * One scenario: direct Redis first, then each runtime's floor and the relay on it, one after the other (two
 * shared cores: sides running at once would measure each other).
 */
export async function runOpenLoopScenario(
  scenario: OpenLoopScenario,
  runtimes: readonly RuntimeUnderTest[],
  stack: RelayBenchStack,
  publisher: Redis,
  phase: (text: string) => void,
): Promise<OpenLoopOutcome> {
  const { plan } = scenario;
  const memory = scenario.measureMemory;
  phase(`${scenario.name}: direct Redis`);
  const direct = await runOpenLoop(
    { ...plan, messages: plan.messages * scenario.directMessageFactor },
    {
      label: "direct Redis",
      target: directTarget(stack.redisUrl, publisher),
      channel: channel(`${scenario.name}-direct`),
      processes: () => ({ "redis-server": [stack.redisPid] }),
      measureMemory: memory,
    },
  );
  const results: RuntimeOpenLoop[] = [];
  for (const runtime of runtimes) {
    phase(`${scenario.name}: ${runtime.label} fan-out floor`);
    const floor = await runOpenLoop(plan, {
      label: `floor on ${runtime.label}`,
      target: floorTarget(runtime.floor.url),
      channel: channel(`${scenario.name}-floor`),
      processes: runtime.floor.processes,
      measureMemory: memory,
    });
    phase(`${scenario.name}: relay on ${runtime.label}`);
    const relay = await runOpenLoop(plan, {
      label: `relay on ${runtime.label}`,
      target: relayTarget(runtime.relay.url, stack.authorization, stack.redisUrl),
      channel: channel(`${scenario.name}-${runtime.name}`),
      processes: runtime.relay.processes,
      measureMemory: memory,
      taps: scenario.taps ? (name) => openTaps(stack, name) : undefined,
    });
    results.push({ runtime: runtime.name, label: runtime.label, floor, relay });
  }
  return { scenario, direct, runtimes: results };
}

/** Tap point names, in path order. */
export const TAP_REDIS = "Redis";
export const TAP_PROXY = "proxy";

async function openTaps(stack: RelayBenchStack, name: string): Promise<Tap[]> {
  const redisSeen = new Map<number, number>();
  const proxySeen = new Map<number, number>();
  const mark = (seen: Map<number, number>, seq: number | undefined) => {
    if (seq !== undefined && !seen.has(seq)) seen.set(seq, performance.now());
  };
  const redis = await openDirectSubscribers(stack.redisUrl, name, 1, (_subscriber, payload) =>
    mark(redisSeen, seqOf(parseJson(payload))),
  );
  const proxy = await openProxyTap(stack.proxyUrl, stack.proxyToken, name, (seq) =>
    mark(proxySeen, seq),
  ).catch(async (error) => {
    await redis.close();
    throw error;
  });
  return [
    { point: TAP_REDIS, seen: redisSeen, close: () => redis.close() },
    { point: TAP_PROXY, seen: proxySeen, close: () => proxy.close() },
  ];
}

/** Channel names under `bench.` (the token's scope), unique per run. */
export function channel(kind: string): string {
  return `bench.${kind}.${randomUUID().slice(0, 8)}`;
}
