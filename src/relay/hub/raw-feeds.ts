/**
 * Raw mode on the delivery hub (docs/sse.md, "Raw mode"): one upstream subscription per classic pub/sub channel
 * and per pattern, shared by every `raw=1` stream of the process, reference counted, kept `lingerMs` after its
 * last listener. Raw is live only (no history to refill from), so when the upstream stream ends or fails every
 * listener is failed at once (its stream ends and the client reconnects): a gap is never silent. The next
 * subscriber opens a fresh feed.
 */
import { openRawFeed, type RawMessage } from "../live/raw.ts";
import type { UpstreamSubscription } from "../live/upstream.ts";
import type { UpstreamEndpoint } from "../live/upstream-stream.ts";

export type RawSource = { channel: string; pattern?: undefined } | { pattern: string; channel?: undefined };

export interface RawListener {
  deliver(message: RawMessage): void;
  fail(error: Error): void;
}

export interface RawSubscription {
  /** Resolves once Redis confirmed the subscription; rejects (→ 503) if it cannot open. */
  ready: Promise<void>;
  close(): void;
}

export interface RawFeeds {
  subscribe(source: RawSource, listener: RawListener): RawSubscription;
  /** Feeds open (lingering ones included), each one upstream stream. */
  readonly count: number;
  listenerCount(): number;
  close(): void;
}

interface RawFeed {
  upstream: UpstreamSubscription;
  listeners: Set<RawListener>;
  linger?: ReturnType<typeof setTimeout>;
}

export function createRawFeeds(
  upstream: UpstreamEndpoint,
  options: { lingerMs: number; readyTimeoutMs: number },
): RawFeeds {
  const feeds = new Map<string, RawFeed>();

  function open(key: string, source: RawSource): RawFeed {
    const feed: RawFeed = {
      listeners: new Set(),
      upstream: openRawFeed(upstream, {
        channels: source.channel !== undefined ? [source.channel] : [],
        patterns: source.pattern !== undefined ? [source.pattern] : [],
        readyTimeoutMs: options.readyTimeoutMs,
        onMessage(message) {
          for (const listener of feed.listeners) listener.deliver(message);
        },
        onError(error) {
          drop(key, feed);
          for (const listener of [...feed.listeners]) listener.fail(error);
        },
      }),
    };
    feed.upstream.ready.catch(() => drop(key, feed));
    feeds.set(key, feed);
    return feed;
  }

  function drop(key: string, feed: RawFeed) {
    if (feed.linger) clearTimeout(feed.linger);
    feed.upstream.close();
    if (feeds.get(key) === feed) feeds.delete(key);
  }

  return {
    subscribe(source, listener) {
      const key = source.channel !== undefined ? `channel:${source.channel}` : `pattern:${source.pattern}`;
      const feed = feeds.get(key) ?? open(key, source);
      if (feed.linger) {
        clearTimeout(feed.linger);
        feed.linger = undefined;
      }
      feed.listeners.add(listener);
      let closed = false;
      return {
        ready: feed.upstream.ready,
        close() {
          if (closed) return;
          closed = true;
          feed.listeners.delete(listener);
          if (feed.listeners.size > 0 || feeds.get(key) !== feed) return;
          feed.linger = setTimeout(() => {
            if (feed.listeners.size === 0) drop(key, feed);
          }, options.lingerMs);
        },
      };
    },
    get count() {
      return feeds.size;
    },
    listenerCount() {
      let total = 0;
      for (const feed of feeds.values()) total += feed.listeners.size;
      return total;
    },
    close() {
      for (const [key, feed] of [...feeds]) drop(key, feed);
    },
  };
}
