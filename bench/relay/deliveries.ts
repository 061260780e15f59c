/**
 * Bookkeeping for one scenario: when each numbered message was published and when each subscriber got it.
 * Loss, duplicates and order are checked from what subscribers actually received, never assumed.
 */
export interface DeliveryTracker {
  /**
   * Marks when message `seq` counts as sent: by default now (just before it is handed to the publisher); open-loop
   * scenarios pass the scheduled time, so a publisher that fell behind shows in the latency.
   */
  published(seq: number, at?: number): void;
  /** Redis itself emitted message `seq` (seen by a tap subscriber on the raw mirror channel); first call counts. */
  emitted(seq: number): void;
  /** One subscriber received message `seq` (call in arrival order). */
  record(subscriber: number, seq: number): void;
  /** Resolves true once every subscriber has message `seq`, false after `timeoutMs`. */
  waitForAll(seq: number, timeoutMs: number): Promise<boolean>;
  /** Resolves true once the total count of receipts reaches `total`, false after `timeoutMs`. */
  waitForTotal(total: number, timeoutMs: number): Promise<boolean>;
  /** Receipts counted so far, over all subscribers and messages. */
  readonly total: number;
  /**
   * Delays in ms for messages `from` ≤ seq < `to` (first receipt per subscriber only): publish→receipt, or
   * with `since: "emitted"` Redis→receipt (only messages the tap saw).
   */
  latencies(from: number, to: number, since?: "published" | "emitted"): number[];
  /** Delays in ms from the moments in `origin` (seq → performance.now()) to each first receipt, for [from, to). */
  latenciesSince(origin: ReadonlyMap<number, number>, from: number, to: number): number[];
  /** When message `seq` counted as sent (see `published`), if it was. */
  sentAt(seq: number): number | undefined;
  /** Publish→Redis delays in ms of the messages the tap saw in [from, to). */
  publishToRedis(from: number, to: number): number[];
  /** Arrival time (performance.now()) of the last receipt of any message in [from, to). */
  lastArrival(from: number, to: number): number;
  /** Lost, duplicate and out-of-order receipts of messages [from, to) summed over all subscribers. */
  check(from: number, to: number): DeliveryCheck;
}

export interface DeliveryCheck {
  /** (subscriber, message) pairs never received. */
  lost: number;
  /** Receipts beyond the first of the same message by the same subscriber. */
  duplicates: number;
  /** Receipts of a message numbered lower than one the same subscriber received before it. */
  outOfOrder: number;
}

export function createDeliveryTracker(subscribers: number): DeliveryTracker {
  const sentAt = new Map<number, number>();
  const emittedAt = new Map<number, number>();
  const received = Array.from({ length: subscribers }, () => ({
    seqs: [] as number[],
    times: [] as number[],
  }));
  const counts = new Map<number, number>();
  const waiters = new Set<{ test(): boolean; resolve(ok: boolean): void }>();
  let total = 0;

  function wait(test: () => boolean, timeoutMs: number): Promise<boolean> {
    if (test()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        test,
        resolve(ok: boolean) {
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
      waiters.add(waiter);
    });
  }

  function latenciesSince(origin: ReadonlyMap<number, number>, from: number, to: number): number[] {
    const delays: number[] = [];
    for (const log of received) {
      const seen = new Set<number>();
      log.seqs.forEach((seq, index) => {
        const start = origin.get(seq);
        if (seq < from || seq >= to || start === undefined || seen.has(seq)) return;
        seen.add(seq);
        delays.push((log.times[index] ?? start) - start);
      });
    }
    return delays;
  }

  return {
    latenciesSince,
    published(seq, at = performance.now()) {
      sentAt.set(seq, at);
    },
    emitted(seq) {
      if (!emittedAt.has(seq)) emittedAt.set(seq, performance.now());
    },
    record(subscriber, seq) {
      const log = received[subscriber];
      if (!log) throw new Error(`no subscriber ${subscriber} (tracking ${subscribers})`);
      log.seqs.push(seq);
      log.times.push(performance.now());
      counts.set(seq, (counts.get(seq) ?? 0) + 1);
      total += 1;
      for (const waiter of waiters) if (waiter.test()) waiter.resolve(true);
    },
    waitForAll(seq, timeoutMs) {
      return wait(() => (counts.get(seq) ?? 0) >= subscribers, timeoutMs);
    },
    waitForTotal(target, timeoutMs) {
      return wait(() => total >= target, timeoutMs);
    },
    get total() {
      return total;
    },
    sentAt: (seq) => sentAt.get(seq),
    latencies(from, to, since = "published") {
      return latenciesSince(since === "published" ? sentAt : emittedAt, from, to);
    },
    publishToRedis(from, to) {
      const delays: number[] = [];
      for (const [seq, at] of emittedAt) {
        const start = sentAt.get(seq);
        if (seq >= from && seq < to && start !== undefined) delays.push(at - start);
      }
      return delays;
    },
    lastArrival(from, to) {
      let last = 0;
      for (const log of received) {
        log.seqs.forEach((seq, index) => {
          if (seq >= from && seq < to) last = Math.max(last, log.times[index] ?? 0);
        });
      }
      return last;
    },
    check(from, to) {
      const result: DeliveryCheck = { lost: 0, duplicates: 0, outOfOrder: 0 };
      for (const log of received) {
        const seen = new Set<number>();
        let highest = -Infinity;
        for (const seq of log.seqs) {
          if (seq < from || seq >= to) continue;
          if (seen.has(seq)) result.duplicates += 1;
          else seen.add(seq);
          if (seq < highest) result.outOfOrder += 1;
          highest = Math.max(highest, seq);
        }
        result.lost += to - from - seen.size;
      }
      return result;
    },
  };
}
