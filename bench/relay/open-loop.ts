import { createDeliveryTracker, type DeliveryCheck, type DeliveryTracker } from "./deliveries.ts";
import { cpuByProcess, cpuSpent, settledRss } from "./metering.ts";
import type { FanoutTarget } from "./targets.ts";

/** Messages on a schedule, whatever the subscribers do. */
export interface OpenLoopPlan {
  subscribers: number;
  /** Messages per second, or "flat-out": each publish as soon as the previous one was accepted. */
  rate: number | "flat-out";
  messages: number;
  /** Unmeasured closed-loop messages first (connections, JIT and caches warm up), not part of the schedule. */
  warmup: number;
}

/** One system under measurement in an open-loop scenario. */
export interface OpenLoopSide {
  /** Row label, e.g. "relay on Node". */
  label: string;
  target: FanoutTarget;
  channel: string;
  /** Processes whose CPU (and memory, with `measureMemory`) count for this side. */
  processes(): Record<string, number[]>;
  /** Reads RSS before opening the subscribers and once all are open. */
  measureMemory?: boolean;
  /** Observers of each message on its way (Redis and proxy taps), opened after the subscribers. */
  taps?(channel: string): Promise<Tap[]>;
}

/** Marks when a message passed a point on its way (seq → performance.now(), first sighting only). */
export interface Tap {
  point: string;
  seen: Map<number, number>;
  close(): Promise<void>;
}

export interface OpenLoopResult {
  label: string;
  plan: OpenLoopPlan;
  openMs: number;
  /** Scheduled send → receipt (ms), one per subscriber and measured message. Saturation shows here. */
  latencies: number[];
  /** How late each publish started against its schedule (ms): the publish path's own saturation. */
  publishLag: number[];
  /** Publish request → accepted (ms). */
  publishMs: number[];
  /** Deliveries of the measured messages / (last receipt − first scheduled send). */
  deliveriesPerSecond: number;
  deliveries: number;
  check: DeliveryCheck;
  reconnects: number;
  resets: number;
  errors: string[];
  /** CPU seconds per process group over the measured window (first send to last receipt). */
  cpu: Record<string, number>;
  /** RSS per process group before opening and with every subscriber open (bytes), when measured. */
  memory?: { before: Record<string, number>; open: Record<string, number> };
  /**
   * Per tap point (taps in path order): due send → point, previous point → this point (per message seen by both),
   * and point → each receipt (ms). The per-leg split of one message.
   */
  legs: Record<string, { publishToPoint: number[]; fromPrevious: number[]; pointToReceipt: number[] }>;
}

const WARMUP_WAIT_MS = 15_000;
/** Receipts arriving after the last expected one are duplicates: give them a moment to show up. */
const LATE_DUPLICATE_MS = 300;
/**
 * A saturated path delivers late, not never: after the last send, wait as long as receipts keep coming. Only when
 * none arrived for STALL_MS (or after DRAIN_MAX_MS in all) do the missing ones count as lost.
 */
const STALL_MS = 10_000;
const DRAIN_MAX_MS = 180_000;

/**
 * Open loop: message k is due at start + k / rate, whether or not anyone has received the earlier ones, and its
 * latency counts from when it was due, not from when it went out (so a publisher that fell behind cannot hide
 * it). One publisher sends one request at a time, in order, so the order every subscriber must see is defined.
 */
export async function runOpenLoop(plan: OpenLoopPlan, side: OpenLoopSide): Promise<OpenLoopResult> {
  const tracker = createDeliveryTracker(plan.subscribers);
  const memoryBefore = side.measureMemory ? await settledRss(side.processes()) : undefined;
  const openStart = performance.now();
  const subscribers = await side.target.open(side.channel, plan.subscribers, tracker.record);
  const openMs = performance.now() - openStart;
  const taps: Tap[] = [];
  try {
    taps.push(...((await side.taps?.(side.channel)) ?? []));
    const memoryOpen = side.measureMemory ? await settledRss(side.processes()) : undefined;
    for (let seq = 0; seq < plan.warmup; seq++) {
      tracker.published(seq);
      await side.target.publish(side.channel, seq);
      await tracker.waitForAll(seq, WARMUP_WAIT_MS);
    }

    const from = plan.warmup;
    const to = from + plan.messages;
    const publishLag: number[] = [];
    const publishMs: number[] = [];
    const publishErrors: string[] = [];
    const cpuBefore = cpuByProcess(side.processes());
    const start = performance.now();
    for (let seq = from; seq < to; seq++) {
      const due = plan.rate === "flat-out" ? performance.now() : start + ((seq - from) * 1000) / plan.rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((done) => setTimeout(done, wait));
      const sent = performance.now();
      publishLag.push(sent - due);
      tracker.published(seq, due);
      try {
        await side.target.publish(side.channel, seq);
      } catch (error) {
        // A refused publish is a message no one gets: it shows as lost, and the reason in the errors.
        publishErrors.push(error instanceof Error ? error.message : String(error));
      }
      publishMs.push(performance.now() - sent);
    }
    await drain(tracker, plan.subscribers * to);
    const cpu = cpuSpent(cpuBefore, cpuByProcess(side.processes()));
    await new Promise((done) => setTimeout(done, LATE_DUPLICATE_MS));

    const check = tracker.check(0, to);
    const deliveries = plan.subscribers * plan.messages - tracker.check(from, to).lost;
    const last = tracker.lastArrival(from, to);
    const legs: OpenLoopResult["legs"] = {};
    taps.forEach((tap, index) => {
      const previous = taps[index - 1]?.seen;
      const publishToPoint: number[] = [];
      const fromPrevious: number[] = [];
      for (const [seq, at] of tap.seen) {
        if (seq < from || seq >= to) continue;
        const due = tracker.sentAt(seq);
        const before = previous?.get(seq);
        if (due !== undefined) publishToPoint.push(at - due);
        if (before !== undefined) fromPrevious.push(at - before);
      }
      legs[tap.point] = {
        publishToPoint,
        fromPrevious,
        pointToReceipt: tracker.latenciesSince(tap.seen, from, to),
      };
    });
    return {
      label: side.label,
      plan,
      openMs,
      latencies: tracker.latencies(from, to),
      publishLag,
      publishMs,
      deliveriesPerSecond: last > start ? (deliveries / (last - start)) * 1000 : 0,
      deliveries,
      check,
      reconnects: subscribers.reconnects(),
      resets: subscribers.resets(),
      errors: [...new Set(publishErrors), ...subscribers.errors()],
      cpu,
      memory: memoryBefore && memoryOpen ? { before: memoryBefore, open: memoryOpen } : undefined,
      legs,
    };
  } finally {
    for (const tap of taps) await tap.close();
    await subscribers.close();
  }
}

async function drain(tracker: DeliveryTracker, expected: number): Promise<void> {
  const deadline = performance.now() + DRAIN_MAX_MS;
  let seen = -1;
  while (tracker.total < expected && tracker.total > seen && performance.now() < deadline) {
    seen = tracker.total;
    await tracker.waitForTotal(expected, STALL_MS);
  }
}
