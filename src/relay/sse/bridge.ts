import type { SseSession } from "./session.ts";

/**
 * Carries live items from a feed to an SSE session that does not exist yet: the feed is confirmed before
 * the headers go out, the session starts after. Items and an upstream failure that arrive in between are
 * kept and handed over in order on `attach`.
 */
export interface FeedBridge<T> {
  push(item: T): void;
  fail(): void;
  attach(session: SseSession<T>): void;
}

export function createFeedBridge<T>(): FeedBridge<T> {
  const early: T[] = [];
  let failed = false;
  let target: SseSession<T> | undefined;
  return {
    push(item) {
      if (target) target.push(item);
      else early.push(item);
    },
    fail() {
      if (target) target.end("upstream-error");
      else failed = true;
    },
    attach(session) {
      target = session;
      for (const item of early.splice(0)) session.push(item);
      if (failed) session.end("upstream-error");
    },
  };
}
