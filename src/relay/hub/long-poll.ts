import type { Redis } from "@upstash/redis/cloudflare";
import { type ChannelPosition, compareStreamIds, encodeCursor } from "../../protocol/cursor.ts";
import type { LiveItem, LiveMessage } from "../live/live-item.ts";
import { type HistoryResult, readHistory } from "../redis/history.ts";
import type { ChannelHub } from "./channel-hub.ts";
import { Deadlines } from "./deadlines.ts";

export interface HubLongPollRequest {
  channel: string;
  /** The client's position on the channel; null = from "now". */
  after: ChannelPosition | null;
  limit: number;
  waitMs: number;
  /**
   * Any of them aborted ends the wait (the client left, the process shuts down). Asked for only when the request
   * has to wait: on Deno, a served request whose signal was ever read is aborted when its answer is sent, at the
   * cost of a DOMException (7% of the relay's CPU under the long-poll benchmark, docs/benchmarks.md).
   */
  signals?: () => readonly AbortSignal[];
}

/** A long-poll answer: a history read, or messages the hub delivered while the request waited. */
export type HubLongPollAnswer =
  | { kind: "history"; result: HistoryResult }
  | { kind: "live"; messages: LiveMessage[]; cursor: string };

/** Every waiter's deadline, on one timer (deadlines.ts). */
const waitDeadlines = new Deadlines();

/**
 * A long-poll waiter served by the hub (docs/api.md, long-poll). It joins the channel's feed first, so nothing
 * can slip between "history has nothing new" and "waiting". A waiter whose cursor the hub's record of recent
 * messages covers costs no Redis call at all: a few messages behind, it is answered from that record; at the
 * newest position, it waits for what the hub delivers, already framed. Any other cursor reads history first.
 * Anything unusual while waiting (a reset, another epoch, the feed failing) is answered from history, exactly as
 * without the hub.
 * Throws when the feed cannot go live (the caller answers 503).
 */
export async function longPollOnHub(
  hub: ChannelHub,
  redis: () => Redis,
  request: HubLongPollRequest,
): Promise<HubLongPollAnswer> {
  const { channel, limit } = request;
  const arrived: LiveItem[] = [];
  let failed = false;
  let wake: (() => void) | undefined;
  const subscription = hub.subscribe(
    { channel },
    {
      deliver(item) {
        arrived.push(item);
        wake?.();
      },
      fail() {
        failed = true;
        wake?.();
      },
    },
  );
  try {
    await subscription.ready;
    // Joined before this look, so whatever the hub delivers after it also reaches `arrived`.
    const held = request.after ? subscription.recentAfter(request.after, limit) : undefined;
    let from: ChannelPosition;
    if (held && held.length > 0) {
      return { kind: "live", messages: held, cursor: encodeCursor((held.at(-1) as LiveMessage).position) };
    }
    if (held && request.after) {
      from = request.after;
    } else {
      const result = await readHistory(redis(), { channel, after: request.after, limit });
      if (result.messages.length > 0 || result.reset !== null) return { kind: "history", result };
      from = result.position;
    }
    const deadline = Date.now() + request.waitMs;
    let signals: readonly AbortSignal[] | undefined;
    const reread = async (): Promise<HubLongPollAnswer> => ({
      kind: "history",
      result: await readHistory(redis(), { channel, after: from, limit }),
    });
    for (;;) {
      if (failed) return await reread();
      const fresh: LiveMessage[] = [];
      for (const item of arrived) {
        // A reset or another epoch: history says exactly what the client missed (gap: true).
        if (item.kind === "reset" || item.position.epoch !== from.epoch) return await reread();
        if (compareStreamIds(item.position.streamId, from.streamId) > 0) fresh.push(item);
      }
      arrived.length = 0;
      if (fresh.length > 0) {
        const messages = fresh.slice(0, limit);
        return { kind: "live", messages, cursor: encodeCursor((messages.at(-1) as LiveMessage).position) };
      }
      const remaining = deadline - Date.now();
      signals ??= request.signals?.() ?? [];
      const waitingOn = signals;
      if (remaining <= 0 || waitingOn.some((signal) => signal.aborted)) {
        return { kind: "live", messages: [], cursor: encodeCursor(from) };
      }
      await new Promise<void>((resolve) => {
        const cancelDeadline = waitDeadlines.add(deadline, done);
        for (const signal of waitingOn) signal.addEventListener("abort", done);
        function done() {
          cancelDeadline();
          for (const signal of waitingOn) signal.removeEventListener("abort", done);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    subscription.close();
  }
}

/** The JSON body of a live answer: the messages' JSON as framed once by the hub, spliced in. */
export function liveAnswerBody(messages: readonly LiveMessage[], cursor: string): string {
  return `{"messages":[${messages.map((message) => message.json).join(",")}],"cursor":${JSON.stringify(cursor)},"gap":false}`;
}
