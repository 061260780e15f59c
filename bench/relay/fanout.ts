import { createDeliveryTracker, type DeliveryCheck } from "./deliveries.ts";
import type { FanoutTarget, OpenSubscribers } from "./targets.ts";

export interface FanoutPlan {
  subscribers: number;
  /** Unmeasured messages first (connections, JIT and script caches warm up). */
  warmup: number;
  /** Closed loop: publish one, wait until every subscriber has it, publish the next. Gives unloaded latency. */
  latencyMessages: number;
  /** Then a burst published as fast as batches allow: gives fan-out deliveries per second. */
  burstMessages: number;
  batchSize: number;
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
  /** CPU seconds each sampled process spent from "all open" to the last burst delivery. */
  cpu: Record<string, number>;
  /** Deliveries in that window (closed loop and burst, including warm-up). */
  deliveries: number;
}

/** Hooks around the moment every subscriber is open (used to read process memory with N streams open). */
export interface FanoutHooks {
  beforeOpen?(): Promise<void> | void;
  afterOpen?(): Promise<void> | void;
  /** CPU seconds used so far, per process name; sampled once all are open and after the last delivery. */
  cpu?(): Record<string, number>;
}

const WAIT_PER_MESSAGE_MS = 15_000;

export async function measureFanout(
  target: FanoutTarget,
  channel: string,
  plan: FanoutPlan,
  hooks: FanoutHooks = {},
): Promise<FanoutResult> {
  const tracker = createDeliveryTracker(plan.subscribers);
  await hooks.beforeOpen?.();
  const openStart = performance.now();
  const subscribers: OpenSubscribers = await target.open(channel, plan.subscribers, tracker.record);
  const openMs = performance.now() - openStart;
  const tap = await target.tap?.(channel, tracker.emitted);
  try {
    await hooks.afterOpen?.();
    const cpuBefore = hooks.cpu?.() ?? {};
    let seq = 0;
    const latencyFrom = plan.warmup;
    const latencyTo = plan.warmup + plan.latencyMessages;
    for (; seq < latencyTo; seq++) {
      tracker.published(seq);
      await target.publish(channel, seq);
      await tracker.waitForAll(seq, WAIT_PER_MESSAGE_MS);
    }

    const burstFrom = seq;
    const burstTo = burstFrom + plan.burstMessages;
    const receivedBefore = tracker.total;
    const burstStart = performance.now();
    while (seq < burstTo) {
      const batch: number[] = [];
      for (; seq < burstTo && batch.length < plan.batchSize; seq++) {
        tracker.published(seq);
        batch.push(seq);
      }
      await target.publishBatch(channel, batch);
    }
    const expected = receivedBefore + plan.subscribers * plan.burstMessages;
    await tracker.waitForTotal(expected, Math.max(30_000, plan.burstMessages * 100));
    const burstEnd = tracker.lastArrival(burstFrom, burstTo);
    const cpuAfter = hooks.cpu?.() ?? {};
    const delivered = tracker.total - receivedBefore;
    // Let late duplicates show up before checking.
    await new Promise((done) => setTimeout(done, 300));
    return {
      target: target.name,
      subscribers: plan.subscribers,
      openMs,
      latencies: tracker.latencies(latencyFrom, latencyTo),
      publishToRedis: tracker.publishToRedis(latencyFrom, latencyTo),
      redisToReceipt: tracker.latencies(latencyFrom, latencyTo, "emitted"),
      deliveriesPerSecond: burstEnd > burstStart ? (delivered / (burstEnd - burstStart)) * 1000 : 0,
      check: tracker.check(0, burstTo),
      reconnects: subscribers.reconnects(),
      resets: subscribers.resets(),
      errors: subscribers.errors(),
      cpu: Object.fromEntries(
        Object.entries(cpuAfter).map(([name, used]) => [name, used - (cpuBefore[name] ?? 0)]),
      ),
      deliveries: tracker.total,
    };
  } finally {
    await tap?.close();
    await subscribers.close();
  }
}
