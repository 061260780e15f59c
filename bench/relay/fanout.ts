import { createDeliveryTracker, type DeliveryCheck, type DeliveryTracker } from "./deliveries.ts";
import { cpuSpent } from "./metering.ts";
import type { FanoutTarget, OpenSubscribers } from "./targets.ts";

export interface FanoutPlan {
  subscribers: number;
  /** Unmeasured messages first (connections, JIT and script caches warm up). */
  warmup: number;
  /** Closed loop: publish one, wait until every subscriber has it, publish the next. Gives unloaded latency. */
  latencyMessages: number;
  batchSize: number;
}

/** One of the systems compared, with what only it needs. */
export interface FanoutSide {
  target: FanoutTarget;
  channel: string;
  /** Messages of the throughput burst, published in batches as fast as they are accepted. */
  burstMessages: number;
  /** CPU seconds used so far per process name; sampled around the burst. */
  cpu(): Record<string, number>;
}

export interface FanoutResult {
  target: string;
  subscribers: number;
  /** ms to open every subscriber (until each subscription is confirmed). */
  openMs: number;
  /** publish→receipt delays (ms) of the closed-loop phase, one per subscriber and message. */
  latencies: number[];
  /** Where that time goes (targets with a tap only): publish→Redis per message, Redis→receipt per delivery. */
  publishToRedis: number[];
  redisToReceipt: number[];
  /** Deliveries per second during the burst (subscribers × burst messages / time to the last receipt). */
  deliveriesPerSecond: number;
  check: DeliveryCheck;
  reconnects: number;
  resets: number;
  errors: string[];
  /** CPU seconds each sampled process spent during the burst, and the deliveries it made. */
  cpu: Record<string, number>;
  burstDeliveries: number;
}

const WAIT_PER_MESSAGE_MS = 15_000;
/** Receipts arriving after the last expected one are duplicates: give them a moment to show up. */
const LATE_DUPLICATE_MS = 300;

interface SideState {
  side: FanoutSide;
  tracker: DeliveryTracker;
  subscribers: OpenSubscribers;
  tap: { close(): Promise<void> } | undefined;
  openMs: number;
  nextSeq: number;
}

/**
 * Measures both sides with the same number of subscribers. The closed-loop latency messages alternate between
 * the sides one by one, so both see the same moments of a noisy machine (2 shared cores, other work); the
 * throughput bursts then run one side after the other.
 */
export async function measureFanoutPair(
  plan: FanoutPlan,
  sides: readonly FanoutSide[],
): Promise<FanoutResult[]> {
  const states: SideState[] = [];
  try {
    for (const side of sides) {
      const tracker = createDeliveryTracker(plan.subscribers);
      const openStart = performance.now();
      const subscribers = await side.target.open(side.channel, plan.subscribers, tracker.record);
      const state: SideState = {
        side,
        tracker,
        subscribers,
        tap: undefined,
        openMs: performance.now() - openStart,
        nextSeq: 0,
      };
      states.push(state);
      state.tap = await side.target.tap?.(side.channel, tracker.emitted);
    }

    const latencyFrom = plan.warmup;
    const latencyTo = plan.warmup + plan.latencyMessages;
    for (let seq = 0; seq < latencyTo; seq++) {
      for (const state of states) await publishAndWait(state, seq);
    }
    const bursts: BurstResult[] = [];
    for (const state of states) bursts.push(await burst(state, plan));
    await new Promise((done) => setTimeout(done, LATE_DUPLICATE_MS));

    return states.map((state, index) => {
      const { tracker, subscribers, side } = state;
      const measured = bursts[index];
      if (!measured) throw new Error("a fan-out side has no burst result");
      return {
        target: side.target.name,
        subscribers: plan.subscribers,
        openMs: state.openMs,
        latencies: tracker.latencies(latencyFrom, latencyTo),
        publishToRedis: tracker.publishToRedis(latencyFrom, latencyTo),
        redisToReceipt: tracker.latencies(latencyFrom, latencyTo, "emitted"),
        deliveriesPerSecond: measured.deliveriesPerSecond,
        check: tracker.check(0, state.nextSeq),
        reconnects: subscribers.reconnects(),
        resets: subscribers.resets(),
        errors: subscribers.errors(),
        cpu: measured.cpu,
        burstDeliveries: measured.deliveries,
      };
    });
  } finally {
    for (const state of states) {
      await state.tap?.close();
      await state.subscribers.close();
    }
  }
}

async function publishAndWait(state: SideState, seq: number): Promise<void> {
  state.tracker.published(seq);
  await state.side.target.publish(state.side.channel, seq);
  state.nextSeq = seq + 1;
  await state.tracker.waitForAll(seq, WAIT_PER_MESSAGE_MS);
}

interface BurstResult {
  deliveriesPerSecond: number;
  cpu: Record<string, number>;
  deliveries: number;
}

async function burst(state: SideState, plan: FanoutPlan): Promise<BurstResult> {
  const { tracker, side } = state;
  const from = state.nextSeq;
  const to = from + side.burstMessages;
  const receivedBefore = tracker.total;
  const cpuBefore = side.cpu();
  const started = performance.now();
  while (state.nextSeq < to) {
    const batch: number[] = [];
    for (; state.nextSeq < to && batch.length < plan.batchSize; state.nextSeq++) {
      tracker.published(state.nextSeq);
      batch.push(state.nextSeq);
    }
    await side.target.publishBatch(side.channel, batch);
  }
  const expected = receivedBefore + plan.subscribers * side.burstMessages;
  await tracker.waitForTotal(expected, Math.max(30_000, side.burstMessages * 100));
  const cpuAfter = side.cpu();
  const finished = tracker.lastArrival(from, to);
  const deliveries = tracker.total - receivedBefore;
  return {
    deliveriesPerSecond: finished > started ? (deliveries / (finished - started)) * 1000 : 0,
    cpu: cpuSpent(cpuBefore, cpuAfter),
    deliveries,
  };
}
