import { EMPTY_EPOCH, encodeCursor, START_STREAM_ID } from "../protocol/cursor.ts";
import { backoffDelay, sleep } from "./backoff.ts";
import type { Channels } from "./channels.ts";
import { RelayError } from "./errors.ts";
import type { SubscriptionEvent } from "./types.ts";

/** Seconds each long-poll holds: under the relay's maximum of 30, clear of 30 s idle cutoffs in proxies. */
const WAIT_SECONDS = 25;
const PAGE_LIMIT = 100;
/** Stop polling while this many events wait for the consumer. */
const HIGH_WATER = 1000;

export interface LongPollInput {
  channels: readonly string[];
  /** Per-channel cursor to continue after; a channel without one starts live (after its current last message). */
  cursors: Map<string, string>;
  signal: AbortSignal;
  backoff: { initialMs?: number; maxMs?: number };
  onRetry?: (error: unknown, delayMs: number) => void;
}

/**
 * Long-poll fallback, for when a proxy buffers SSE: one `?after=&wait=` loop per channel, merged into one
 * sequence. Per channel the order is kept; `gap: true` surfaces as a reset notice, as on SSE.
 */
export async function* longPoll(channels: Channels, input: LongPollInput): AsyncGenerator<SubscriptionEvent> {
  const queue: SubscriptionEvent[] = [];
  let failure: RelayError | undefined;
  let wakeConsumer: (() => void) | undefined;
  const waitingProducers = new Set<() => void>();
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  input.signal.addEventListener("abort", onOuterAbort, { once: true });
  if (input.signal.aborted) stop.abort();

  const notify = () => {
    wakeConsumer?.();
    wakeConsumer = undefined;
  };
  const wakeProducers = () => {
    for (const wake of waitingProducers) wake();
    waitingProducers.clear();
  };
  stop.signal.addEventListener("abort", () => {
    notify();
    wakeProducers();
  });

  async function roomInQueue() {
    while (queue.length >= HIGH_WATER && !stop.signal.aborted) {
      await new Promise<void>((resolve) => waitingProducers.add(resolve));
    }
  }

  async function pollChannel(channel: string) {
    let cursor = input.cursors.get(channel);
    let attempt = 0;
    while (!stop.signal.aborted) {
      try {
        if (cursor === undefined) {
          // Live from now: continue after the channel's current last message (none yet: from its start).
          const info = await channels.info(channel, { signal: stop.signal });
          cursor = info.last ?? encodeCursor({ channel, epoch: EMPTY_EPOCH, streamId: START_STREAM_ID });
        }
        const page = await channels.history(channel, {
          after: cursor,
          wait: WAIT_SECONDS,
          limit: PAGE_LIMIT,
          signal: stop.signal,
        });
        attempt = 0;
        if (page.gap) {
          queue.push({ type: "reset", channel, reason: "unknown", oldest: page.messages[0]?.id ?? null });
        }
        for (const message of page.messages) queue.push({ type: "message", ...message });
        cursor = page.cursor;
        input.cursors.set(channel, cursor);
        notify();
        await roomInQueue();
      } catch (error) {
        if (stop.signal.aborted) return;
        if (!isTransient(error)) {
          failure =
            error instanceof RelayError
              ? error
              : new RelayError({ code: "long_poll_failed", status: 0, detail: String(error), cause: error });
          stop.abort();
          notify();
          return;
        }
        const delay = backoffDelay(attempt++, input.backoff);
        input.onRetry?.(error, delay);
        await sleep(delay, stop.signal);
      }
    }
  }

  const pollers = input.channels.map((channel) => pollChannel(channel));
  try {
    for (;;) {
      const next = queue.shift();
      if (next) {
        if (queue.length < HIGH_WATER) wakeProducers();
        yield next;
        continue;
      }
      if (failure) throw failure;
      if (stop.signal.aborted) return;
      await new Promise<void>((resolve) => {
        wakeConsumer = resolve;
      });
    }
  } finally {
    stop.abort();
    input.signal.removeEventListener("abort", onOuterAbort);
    await Promise.allSettled(pollers);
  }
}

/** Worth retrying: no answer at all, overload, or a gateway/server hiccup. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof RelayError)) return false;
  return error.status === 0 || error.status === 429 || error.status >= 500;
}
