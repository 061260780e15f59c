import type { Redis } from "@upstash/redis/cloudflare";
import type { Context } from "hono";
import type { ChannelPosition } from "../../protocol/cursor.ts";
import type { RelayConfig } from "../config.ts";
import type { ChannelHub, HubSubscription } from "../hub/channel-hub.ts";
import { liveFeedUnavailable, openLiveFeed } from "../live/feed.ts";
import type { LiveItem } from "../live/live-item.ts";
import { patternMatcher } from "../live/pattern.ts";
import { requestEndpoint } from "../live/upstream.ts";
import { type HistoryRequest, type HistoryResult, readHistories } from "../redis/history.ts";
import { createFeedBridge, type FeedBridge } from "./bridge.ts";
import { formatFrame } from "./frame.ts";
import { eventStreamResponse } from "./response.ts";
import { createSseSession, type SseEndReason, type SseSession, sessionLimits } from "./session.ts";
import { createStreamCursor, type StreamCursor } from "./stream-cursor.ts";

/** Messages per channel per replay round trip. */
export const REPLAY_PAGE = 500;

export interface RelayStreamRequest {
  channels: readonly string[];
  patterns: readonly string[];
  /** Positions from Last-Event-ID / ?lastEventId=, by channel; null = live from now. */
  resume: ReadonlyMap<string, ChannelPosition> | null;
  /** Epoch ms at which the token expires: the stream closes then. */
  closeAt?: number;
  /** Called once when the stream ends, with why (for logs and tests). */
  onEnd?(reason: SseEndReason): void;
}

/** Where a stream's live items come from: the process's hub, or its own upstream streams (the direct path). */
interface StreamFeed {
  ready: Promise<void>;
  /** Where the hub stands on a channel, if it knows: a live-only start needs no history read then. */
  position(channel: string): ChannelPosition | undefined;
  /** Pattern feeds: channels the replay covered, so the hub's gap fills cover them too. */
  track(position: ChannelPosition): void;
  close(): void;
}

/**
 * The relay's durable SSE stream (docs/sse.md): the path of one message reads upstream feed → hub (parse
 * once, frame once) → this stream's cursor (dedupe by position, `id:`) → write.
 * 1. attach to the live feed and wait until it is live (headers go out only after it);
 * 2. read where every channel stands and the history after the cursor, in one pipeline (channels the hub
 *    already positions need no read);
 * 3. send the headers, replay (with `event: reset` first where continuity was lost), then stream live items,
 *    dropping those the replay already sent.
 * With a hub, live delivery costs no Redis call per stream; on the direct path each channel and pattern is
 * one upstream stream for the stream's life. Either way the replay reads are one pipeline (more only for a
 * backlog over REPLAY_PAGE).
 */
export async function openRelayStream(
  c: Context,
  /** The request's client, built on first use: a live-only start the hub positions never builds it. */
  redis: () => Redis,
  config: RelayConfig,
  request: RelayStreamRequest,
  hub?: ChannelHub,
): Promise<Response> {
  const cursor = createStreamCursor(request.channels, request.patterns, request.resume);
  const bridge = createFeedBridge<LiveItem>();
  const feed = hub ? hubFeed(hub, request, bridge) : directFeed(c, config, request, bridge);
  let firstPage: HistoryResult[];
  try {
    await feed.ready;
  } catch (error) {
    feed.close();
    throw liveFeedUnavailable(error);
  }
  try {
    firstPage = await readStart(redis, request, feed, cursor);
  } catch (error) {
    feed.close();
    throw error; // classified like any read (docs/api.md): WRONGTYPE → 409 wrong_type, as long-poll answers
  }

  // The stream outlives the request: its closures keep only what they use. Not `c` (its variables hold the
  // request's Redis client, about 13 KiB) and the client's factory only until the replay is written.
  const shutdown = c.get("shutdown");
  let replayRedis: (() => Redis) | undefined = redis;
  return eventStreamResponse(c, { heartbeatMs: config.heartbeatMs }, async (stream) => {
    const session = createSseSession<LiveItem>({
      ...sessionLimits(config, stream, request.closeAt, shutdown),
      render: (item) => cursor.live(item),
      position: () => cursor.eventId(),
      onEnd(reason) {
        feed.close();
        request.onEnd?.(reason);
      },
    });
    try {
      bridge.attach(session);
      if (replayRedis) await writeReplay(session, replayRedis, config, cursor, firstPage);
    } catch (error) {
      // Redis failed mid-replay (or a stored entry could not be framed): end here; the client resumes
      // from the last id it got.
      console.error("relay: SSE replay failed:", error instanceof Error ? error.message : error);
      session.end("upstream-error");
    } finally {
      replayRedis = undefined;
      firstPage = [];
    }
    // Returned, not awaited: this frame (the replay's variables) need not stay suspended for the stream's life.
    return session.run();
  });
}

/** One hub subscription per channel and pattern; their items meet in one queue (the cursor dedupes). */
function hubFeed(hub: ChannelHub, request: RelayStreamRequest, bridge: FeedBridge<LiveItem>): StreamFeed {
  const listener = { deliver: bridge.push, fail: bridge.fail };
  return new HubStreamFeed(request.channels, [
    ...request.channels.map((channel) => hub.subscribe({ channel }, listener)),
    ...request.patterns.map((pattern) => hub.subscribe({ pattern }, listener)),
  ]);
}

/** A class: it lives as long as its stream, and open streams share its methods (no closures per stream). */
class HubStreamFeed implements StreamFeed {
  readonly ready: Promise<void>;
  readonly #channels: readonly string[];
  /** The channels' subscriptions (in `channels` order), then the patterns'. */
  readonly #subscriptions: readonly HubSubscription[];

  constructor(channels: readonly string[], subscriptions: readonly HubSubscription[]) {
    this.#channels = channels;
    this.#subscriptions = subscriptions;
    this.ready = Promise.all(subscriptions.map((subscription) => subscription.ready)).then(() => {});
  }

  position(channel: string): ChannelPosition | undefined {
    return this.#subscriptions[this.#channels.indexOf(channel)]?.position(channel);
  }

  track(position: ChannelPosition) {
    for (let i = this.#channels.length; i < this.#subscriptions.length; i++)
      this.#subscriptions[i]?.track(position);
  }

  close() {
    for (const subscription of this.#subscriptions) subscription.close();
  }
}

/** The direct path: this stream's own upstream streams, ended on any interruption (the client resumes). */
function directFeed(
  c: Context,
  config: RelayConfig,
  request: RelayStreamRequest,
  bridge: FeedBridge<LiveItem>,
): StreamFeed {
  const feed = openLiveFeed(requestEndpoint(config.upstash, c.get("redisCalls")), {
    channels: request.channels,
    patterns: request.patterns,
    onItem: bridge.push,
    onError: bridge.fail,
  });
  return { ready: feed.ready, position: () => undefined, track() {}, close: feed.close };
}

/**
 * Positions the cursor on every channel and returns the first replay page: one pipelined read for the channels
 * resumed, and for live-only channels whose "now" the feed does not already know.
 */
async function readStart(
  redis: () => Redis,
  request: RelayStreamRequest,
  feed: StreamFeed,
  cursor: StreamCursor,
): Promise<HistoryResult[]> {
  const requests: HistoryRequest[] = [];
  for (const channel of request.channels) {
    const after = request.resume?.get(channel);
    if (after) requests.push({ channel, after, limit: REPLAY_PAGE });
    else {
      const now = feed.position(channel);
      if (now) cursor.startAt(now);
      else requests.push({ channel, after: null, limit: 1 });
    }
  }
  if (request.resume && request.patterns.length > 0) {
    // Channels this stream found through a pattern before the reconnect: replay them too.
    const named = new Set(request.channels);
    const matches = request.patterns.map(patternMatcher);
    for (const [channel, after] of request.resume) {
      if (!named.has(channel) && matches.some((match) => match(channel))) {
        requests.push({ channel, after, limit: REPLAY_PAGE });
      }
    }
  }
  const results = requests.length === 0 ? [] : await readHistories(redis(), requests);
  cursor.start(results);
  for (const result of results) if (!request.channels.includes(result.channel)) feed.track(result.position);
  return results;
}

/** Writes the replay: the first page read before the headers, then more pages for channels still behind. */
async function writeReplay(
  session: SseSession<LiveItem>,
  redis: () => Redis,
  config: RelayConfig,
  cursor: StreamCursor,
  firstPage: HistoryResult[],
): Promise<void> {
  let page = firstPage;
  const rounds = Math.ceil(config.history / REPLAY_PAGE) + 1;
  for (let round = 0; round < rounds && !session.ended; round++) {
    let text = "";
    for (const result of page) text += cursor.replay(result);
    const behind = page.filter((result) => result.messages.length >= REPLAY_PAGE);
    // Done: state where the stream stands with an `id:`-only frame. EventSource records it without firing
    // an event, so a client that drops before the first message still resumes from here, not from "now".
    const position = cursor.eventId();
    if (behind.length === 0 && position !== undefined) text += formatFrame({ id: position });
    if (text) await session.write(text);
    if (behind.length === 0 || session.ended) return;
    page = await readHistories(
      redis(),
      behind.map((result) => ({ channel: result.channel, after: result.position, limit: REPLAY_PAGE })),
    );
  }
}
