import { createDeliveryTracker, type DeliveryCheck } from "./deliveries.ts";

/** One poll's answer: the message numbers it carried, where to continue, and whether history had a gap. */
export interface PollAnswer {
  seqs: number[];
  cursor: string;
  gap: boolean;
}

export interface Poller {
  poll(cursor: string, signal: AbortSignal): Promise<PollAnswer>;
  close(): Promise<void>;
}

/** A durable log read by long-polling loops: the relay's `/messages?wait=`, or XREAD BLOCK on Redis directly. */
export interface LongPollTarget {
  name: string;
  /** Publishes an unnumbered first message; its cursor is where every loop starts. */
  start(channel: string): Promise<string>;
  publish(channel: string, seq: number): Promise<void>;
  poller(channel: string): Promise<Poller>;
  close(): Promise<void>;
}

export interface LongPollPlan {
  loops: number;
  messages: number;
  waitSeconds: number;
}

export interface LongPollResult {
  target: string;
  loops: number;
  requests: number;
  requestsPerSecond: number;
  latencies: number[];
  gaps: number;
  check: DeliveryCheck;
  errors: string[];
}

const DEADLINE_MS = 60_000;

export async function measureLongPoll(
  target: LongPollTarget,
  channel: string,
  plan: LongPollPlan,
): Promise<LongPollResult> {
  const tracker = createDeliveryTracker(plan.loops);
  const startCursor = await target.start(channel);
  const abort = new AbortController();
  const deadline = setTimeout(
    () => abort.abort(new Error(`long-poll loops did not finish within ${DEADLINE_MS} ms`)),
    DEADLINE_MS,
  );
  const errors: string[] = [];
  let requests = 0;
  let gaps = 0;

  const pollers = await Promise.all(Array.from({ length: plan.loops }, () => target.poller(channel)));
  async function loop(index: number, poller: Poller) {
    const seen = new Set<number>();
    let cursor = startCursor;
    while (seen.size < plan.messages && !abort.signal.aborted) {
      try {
        const answer = await poller.poll(cursor, abort.signal);
        requests += 1;
        if (answer.gap) gaps += 1;
        for (const seq of answer.seqs) {
          tracker.record(index, seq);
          seen.add(seq);
        }
        cursor = answer.cursor;
      } catch (error) {
        if (!abort.signal.aborted) errors.push(error instanceof Error ? error.message : String(error));
        return;
      }
    }
  }

  const started = performance.now();
  const loops = pollers.map((poller, index) => loop(index, poller));
  try {
    for (let seq = 0; seq < plan.messages && !abort.signal.aborted; seq++) {
      tracker.published(seq);
      await target.publish(channel, seq);
    }
    await Promise.all(loops);
  } finally {
    clearTimeout(deadline);
    abort.abort();
    await Promise.all(pollers.map((poller) => poller.close()));
  }
  const elapsedMs = performance.now() - started;
  return {
    target: target.name,
    loops: plan.loops,
    requests,
    requestsPerSecond: (requests / elapsedMs) * 1000,
    latencies: tracker.latencies(0, plan.messages),
    gaps,
    check: tracker.check(0, plan.messages),
    errors: [...new Set(errors)],
  };
}
