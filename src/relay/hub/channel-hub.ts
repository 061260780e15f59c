/**
 * The delivery hub (docs/sse.md, "The delivery hub"): one upstream subscription per relay channel and per
 * pattern, shared by every SSE stream and long-poll waiter of this process (or of one Durable Object). Each live
 * notification is parsed and framed once (live/live-item.ts); each listener then costs a queue push.
 * Runtime-agnostic: it takes a Redis client, the upstream endpoint and uses only fetch and timers.
 *
 * API
 *   const hub = createChannelHub({ redis, upstream: { url, token }, checkIntervalMs: config.heartbeatMs });
 *   const subscription = hub.subscribe({ channel: "orders" } | { pattern: "orders.*" }, {
 *     deliver(item) { ... },   // LiveItem, in order, once per position, synchronously: queue it
 *     fail(error) { ... },     // the hub lost messages it could not fill from history: end the stream
 *   });
 *   await subscription.ready;  // live: upstream confirmed and caught up; rejects (→ 503) if it cannot open
 *   subscription.position(ch)  // where the feed stands on `ch` (newest delivered, or "now" read on open)
 *   subscription.recentAfter(cursor, limit) // channel feeds: what follows `cursor` without Redis, if it knows
 *   subscription.track(pos)    // pattern feeds: cover this channel (from a subscriber's replay) in gap fills
 *   subscription.close();      // idempotent; the feed closes `lingerMs` after its last listener
 *   hub.subscribeRaw({ channel } | { pattern }, { deliver, fail }) // raw=1 streams (hub/raw-feeds.ts)
 *   hub.stats(); hub.close();
 * Items delivered between `subscribe()` and `ready` are the listener's too (queue them: the replay read that
 * follows `ready` overlaps them; dedupe by position, as sse/stream-cursor.ts does).
 *
 * Lifecycle of a feed (hub/channel-feed.ts): opened on the first listener; reopened with backoff when the
 * upstream ends or fails while listeners remain; on reopen, and when the endpoint says it subscribed again,
 * it reads history after the last position it delivered and delivers what was missed, in order, before any
 * newer live item; about once per `checkIntervalMs` it checks that the newest history entry reached it and
 * fills from history if not. Listeners are failed only when a fill fails, history is gone, or the upstream
 * stays down longer than `checkIntervalMs`.
 *
 * A Durable Object per channel owns one hub (`createChannelHub` in its constructor) and calls
 * `hub.subscribe({ channel })` per SSE stream or long-poll it serves; sse/relay-stream.ts and
 * hub/long-poll.ts show both uses.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { ChannelPosition } from "../../protocol/cursor.ts";
import type { LiveMessage } from "../live/live-item.ts";
import type { UpstreamEndpoint } from "../live/upstream-stream.ts";
import { ChannelFeed, type FeedSource, type HubListener } from "./channel-feed.ts";
import { createRawFeeds, type RawListener, type RawSource, type RawSubscription } from "./raw-feeds.ts";

export type { LiveItem, LiveMessage, LiveReset } from "../live/live-item.ts";
export type { FeedSource, HubListener } from "./channel-feed.ts";
export type { RawListener, RawSource, RawSubscription } from "./raw-feeds.ts";

export interface ChannelHubOptions {
  /** For history reads: a feed's "now" on open, gap fills, the periodic check. */
  redis: Redis;
  /** Where upstream subscribe streams go (RelayConfig.upstash). */
  upstream: UpstreamEndpoint;
  /** The per-feed history check interval and the longest an interruption may last before listeners end. */
  checkIntervalMs: number;
  /** How long a feed stays open after its last listener left (a reconnect storm does not churn it). */
  lingerMs?: number;
  /** Delay before reopening an interrupted upstream, doubling up to `max`. */
  reopenDelayMs?: { initial: number; max: number };
  /** How long `ready` waits for a feed to go live. */
  readyTimeoutMs?: number;
  /** The longest one history read may take; past it the read fails like any failed read (RELAY_HUB_READ_TIMEOUT_MS). */
  readTimeoutMs?: number;
  log?(message: string): void;
}

export interface HubSubscription {
  ready: Promise<void>;
  position(channel: string): ChannelPosition | undefined;
  /**
   * Channel feeds: the messages after `cursor` the hub holds (at most `limit`; [] when `cursor` is where the feed
   * stands), or undefined when only history can say. Long-poll waiters use it to skip Redis.
   */
  recentAfter(cursor: ChannelPosition, limit: number): LiveMessage[] | undefined;
  track(position: ChannelPosition): void;
  close(): void;
}

export interface HubStats {
  /** Feeds open (lingering ones included). */
  feeds: number;
  /** Upstream subscribe streams open now. */
  upstreams: number;
  listeners: number;
}

export interface ChannelHub {
  subscribe(source: FeedSource, listener: HubListener): HubSubscription;
  /** `raw=1` streams: one upstream per classic channel or pattern, live only (hub/raw-feeds.ts). */
  subscribeRaw(source: RawSource, listener: RawListener): RawSubscription;
  stats(): HubStats;
  /** Closes every feed (shutdown). */
  close(): void;
}

export const DEFAULT_LINGER_MS = 2_000;
const DEFAULT_READY_TIMEOUT_MS = 10_000;
export const DEFAULT_READ_TIMEOUT_MS = 5_000;

export function createChannelHub(options: ChannelHubOptions): ChannelHub {
  const feeds = new Map<string, ChannelFeed>();
  const settings = {
    redis: options.redis,
    upstream: options.upstream,
    checkIntervalMs: options.checkIntervalMs,
    lingerMs: options.lingerMs ?? DEFAULT_LINGER_MS,
    reopenDelayMs: options.reopenDelayMs ?? {
      initial: 50,
      max: Math.max(100, Math.floor(options.checkIntervalMs / 4)),
    },
    readyTimeoutMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    readTimeoutMs: options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
    log: options.log ?? ((message: string) => console.warn(`relay hub: ${message}`)),
  };

  const raw = createRawFeeds(options.upstream, {
    lingerMs: settings.lingerMs,
    readyTimeoutMs: settings.readyTimeoutMs,
  });

  function feedFor(source: FeedSource): ChannelFeed {
    const key = source.channel !== undefined ? `channel:${source.channel}` : `pattern:${source.pattern}`;
    const existing = feeds.get(key);
    if (existing) return existing;
    const feed: ChannelFeed = new ChannelFeed(source, settings, () => {
      if (feeds.get(key) === feed) feeds.delete(key);
    });
    feeds.set(key, feed);
    return feed;
  }

  return {
    subscribe(source, listener) {
      return new FeedSubscription(feedFor(source), listener);
    },
    subscribeRaw: (source, listener) => raw.subscribe(source, listener),
    stats() {
      let upstreams = raw.count;
      let listeners = raw.listenerCount();
      for (const feed of feeds.values()) {
        if (feed.hasUpstream) upstreams += 1;
        listeners += feed.listenerCount;
      }
      return { feeds: feeds.size + raw.count, upstreams, listeners };
    },
    close() {
      for (const feed of [...feeds.values()]) feed.close();
      raw.close();
    },
  };
}

/** One listener on a feed. A class: an SSE stream holds its subscriptions while open, without closures each. */
class FeedSubscription implements HubSubscription {
  readonly ready: Promise<void>;
  readonly #feed: ChannelFeed;
  readonly #listener: HubListener;
  #closed = false;

  constructor(feed: ChannelFeed, listener: HubListener) {
    feed.add(listener);
    this.ready = feed.whenLive();
    this.ready.catch(() => {});
    this.#feed = feed;
    this.#listener = listener;
  }

  position(channel: string): ChannelPosition | undefined {
    return this.#feed.position(channel);
  }
  recentAfter(cursor: ChannelPosition, limit: number): LiveMessage[] | undefined {
    return this.#feed.recentAfter(cursor, limit);
  }
  track(position: ChannelPosition) {
    this.#feed.track(position);
  }
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#feed.remove(this.#listener);
  }
}
