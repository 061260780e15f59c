/**
 * Receipts of numbered messages on many channels, per subscriber: what was lost, duplicated or out of order is
 * counted from what arrived, never assumed. Each channel numbers its messages 0, 1, 2, ...
 */
export class ChannelReceipts {
  private readonly last = new Map<string, number>();
  private readonly seen = new Map<string, Set<number>>();
  private received = 0;
  private duplicates = 0;
  private outOfOrder = 0;
  private waiter: { total: number; resolve: (ok: boolean) => void } | undefined;
  /** performance.now() of the latest receipt. */
  lastArrival = 0;

  /** Subscriber `subscriber` of `channel` received message `seq`. */
  record(channel: number, subscriber: number, seq: number): void {
    const id = `${channel}/${subscriber}`;
    const seen = this.seen.get(id) ?? new Set<number>();
    this.seen.set(id, seen);
    if (seen.has(seq)) this.duplicates++;
    else seen.add(seq);
    if (seq < (this.last.get(id) ?? -1)) this.outOfOrder++;
    this.last.set(id, seq);
    this.received++;
    this.lastArrival = performance.now();
    if (this.waiter && this.received >= this.waiter.total) this.waiter.resolve(true);
  }

  get total(): number {
    return this.received;
  }

  /** Resolves true once `total` receipts arrived, false after `timeoutMs`. */
  waitForTotal(total: number, timeoutMs: number): Promise<boolean> {
    if (this.received >= total) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiter = {
        total,
        resolve: (ok) => {
          clearTimeout(timer);
          resolve(ok);
        },
      };
    });
  }

  /** Against `sent[c]` messages per channel and `subscribers` per channel. */
  check(
    sent: readonly number[],
    subscribers: number,
  ): { lost: number; duplicates: number; outOfOrder: number } {
    let lost = 0;
    for (const [channel, count] of sent.entries())
      for (let subscriber = 0; subscriber < subscribers; subscriber++)
        lost += count - (this.seen.get(`${channel}/${subscriber}`)?.size ?? 0);
    return { lost, duplicates: this.duplicates, outOfOrder: this.outOfOrder };
  }
}
