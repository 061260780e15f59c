import type { Redis } from "@upstash/redis/cloudflare";
import type { Context } from "hono";
import { type ChannelPosition, decodeCursor, EMPTY_EPOCH, START_STREAM_ID } from "../../protocol/cursor.ts";
import type { Message, ResetNotice, ResetReason } from "../../protocol/message.ts";
import { EVENT_REGEX, RESERVED_EVENTS } from "../../protocol/names.ts";
import type { RelayConfig } from "../config.ts";
import { liveFeedUnavailable, openLiveFeed } from "../live/feed.ts";
import { patternMatcher } from "../live/pattern.ts";
import { type HistoryRequest, type HistoryResult, readHistories } from "../redis/history.ts";
import type { LiveNotification } from "../redis/notification.ts";
import { createFeedBridge } from "./bridge.ts";
import { formatFrame } from "./frame.ts";
import { createStreamPositions, precedingStreamId, type StreamPositions } from "./positions.ts";
import { eventStreamResponse } from "./response.ts";
import { createSseSession, type SseEndReason, type SseSession, sessionLimits } from "./session.ts";

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

/**
 * The relay's durable SSE stream (design §4):
 * 1. subscribe to the live notifications and wait for the confirmation (headers go out only after it);
 * 2. read where every channel stands, and the history after the cursor, in one pipeline;
 * 3. send the headers, replay (with `event: reset` first where continuity was lost), then stream live
 *    messages, dropping those the replay already sent.
 * Redis round trips per connection: one upstream stream per channel/pattern, plus the replay reads
 * (one pipeline, more only for a backlog over REPLAY_PAGE); never more while the stream stays open.
 */
export async function openRelayStream(
  c: Context,
  redis: Redis,
  config: RelayConfig,
  request: RelayStreamRequest,
): Promise<Response> {
  const single = request.channels.length === 1 && request.patterns.length === 0;
  const positions = createStreamPositions(single, new Set(request.channels));
  const bridge = createFeedBridge<LiveNotification>();

  const feed = openLiveFeed(redis, {
    channels: request.channels,
    patterns: request.patterns,
    onNotification: bridge.push,
    onError: bridge.fail,
  });
  let firstPage: HistoryResult[];
  try {
    await feed.ready;
    firstPage = await readHistories(redis, replayRequests(request));
  } catch (error) {
    feed.close();
    throw liveFeedUnavailable(error);
  }

  return eventStreamResponse(c, { heartbeatMs: config.heartbeatMs }, async (stream) => {
    const session = createSseSession<LiveNotification>({
      ...sessionLimits(config, stream, c.req.raw.signal, request.closeAt, c.var.shutdown),
      render: (notification) => renderLive(positions, notification),
      position: () => positions.eventId(),
      onEnd(reason) {
        feed.close();
        request.onEnd?.(reason);
      },
    });
    try {
      bridge.attach(session);
      await writeReplay(session, redis, config, positions, firstPage, request.resume);
    } catch (error) {
      // Redis failed mid-replay (or a stored entry could not be framed): end here; the client resumes
      // from the last id it got.
      console.error("relay: SSE replay failed:", error instanceof Error ? error.message : error);
      session.end("upstream-error");
    }
    await session.run();
  });
}

/** Writes the replay: the first page read before the headers, then more pages for channels still behind. */
async function writeReplay(
  session: SseSession<LiveNotification>,
  redis: Redis,
  config: RelayConfig,
  positions: StreamPositions,
  firstPage: HistoryResult[],
  resume: ReadonlyMap<string, ChannelPosition> | null,
): Promise<void> {
  startPositions(positions, firstPage, resume);
  let page = firstPage;
  const rounds = Math.ceil(config.history / REPLAY_PAGE) + 1;
  for (let round = 0; round < rounds && !session.ended; round++) {
    let text = "";
    for (const result of page) text += renderReplay(positions, result, resume);
    const behind = page.filter((result) => result.messages.length >= REPLAY_PAGE);
    // Done: state where the stream stands with an `id:`-only frame. EventSource records it without firing
    // an event, so a client that drops before the first message still resumes from here, not from "now".
    const position = positions.eventId();
    if (behind.length === 0 && position !== undefined) text += formatFrame({ id: position });
    if (text) await session.write(text);
    if (behind.length === 0 || session.ended) return;
    page = await readHistories(
      redis,
      behind.map((result) => ({ channel: result.channel, after: result.position, limit: REPLAY_PAGE })),
    );
  }
}

/** One history read per channel: after its cursor position, or its "now" for a live-only start. */
function replayRequests(request: RelayStreamRequest): HistoryRequest[] {
  const requests: HistoryRequest[] = request.channels.map((channel) => {
    const after = request.resume?.get(channel);
    return after ? { channel, after, limit: REPLAY_PAGE } : { channel, after: null, limit: 1 };
  });
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
  return requests;
}

/**
 * Positions every channel before the first frame, so even the first `id:` covers all of them: a resumed
 * channel at its cursor, a live-only one at its latest message ("now").
 */
function startPositions(
  positions: StreamPositions,
  results: readonly HistoryResult[],
  resume: ReadonlyMap<string, ChannelPosition> | null,
): void {
  for (const result of results) positions.advance(resume?.get(result.channel) ?? result.position);
}

/** Frames for one channel's replay page: `event: reset` first where continuity was lost, then the messages. */
function renderReplay(
  positions: StreamPositions,
  result: HistoryResult,
  resume: ReadonlyMap<string, ChannelPosition> | null,
): string {
  if (!resume?.has(result.channel)) return "";
  let text = "";
  if (result.reset)
    text += renderReset(positions, result.channel, result.reset.reason, result.reset.oldest, result);
  for (const message of result.messages) text += renderMessage(positions, message, decodeCursor(message.id));
  return text;
}

function renderLive(positions: StreamPositions, notification: LiveNotification): string | undefined {
  if (notification.kind === "reset") {
    const sent = positions.get(notification.channel);
    if (sent?.epoch === notification.epoch) return undefined; // already past the drop (replay or a twin stream)
    positions.advance({
      channel: notification.channel,
      epoch: notification.epoch,
      streamId: START_STREAM_ID,
    });
    return resetFrame(positions, {
      channel: notification.channel,
      reason: notification.reason,
      oldest: null,
    });
  }
  const { message, position } = notification;
  if (!positions.isNew(position)) return undefined;
  let text = "";
  const sent = positions.get(position.channel);
  if (sent && sent.epoch !== EMPTY_EPOCH && sent.epoch !== position.epoch) {
    // The history this stream followed is gone (expired or flushed) and a new one began: say so.
    positions.advance({ ...position, streamId: precedingStreamId(position.streamId) });
    text += resetFrame(positions, { channel: position.channel, reason: "epoch", oldest: message.id });
  }
  return text + renderMessage(positions, message, position);
}

function renderMessage(positions: StreamPositions, message: Message, position: ChannelPosition): string {
  if (!positions.isNew(position)) return "";
  positions.advance(position);
  return formatFrame({
    id: positions.eventId(),
    event: frameEvent(message.event),
    data: JSON.stringify(message),
  });
}

/**
 * The `event:` for a message. A writer that bypassed the relay (EVAL from another language) may have stored
 * any text: a name that is not a valid event type, or the reserved `reset`, is sent as a plain message
 * (its `data.event` still says what was stored), so it can neither break the frame nor forge a reset.
 */
function frameEvent(event: string): string | undefined {
  return EVENT_REGEX.test(event) && !RESERVED_EVENTS.includes(event) ? event : undefined;
}

function renderReset(
  positions: StreamPositions,
  channel: string,
  reason: ResetReason,
  oldest: string | null,
  result: HistoryResult,
): string {
  // Position right before the oldest retained message: a reconnect replays it and does not reset again.
  let position: ChannelPosition;
  if (oldest !== null) {
    const first = decodeCursor(oldest);
    position = { ...first, streamId: precedingStreamId(first.streamId) };
  } else if (result.epoch !== null) {
    position = { channel, epoch: result.epoch, streamId: result.lastGeneratedId };
  } else {
    position = { channel, epoch: EMPTY_EPOCH, streamId: START_STREAM_ID };
  }
  positions.advance(position);
  return resetFrame(positions, { channel, reason, oldest });
}

function resetFrame(positions: StreamPositions, notice: ResetNotice): string {
  return formatFrame({ id: positions.eventId(), event: "reset", data: JSON.stringify(notice) });
}
