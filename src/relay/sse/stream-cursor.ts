import {
  type ChannelPosition,
  decodeCursor,
  EMPTY_EPOCH,
  encodeCursor,
  START_STREAM_ID,
} from "../../protocol/cursor.ts";
import type { ResetNotice } from "../../protocol/message.ts";
import { frameMessage, type LiveItem, type LiveMessage } from "../live/live-item.ts";
import type { HistoryResult } from "../redis/history.ts";
import { formatFrame } from "./frame.ts";
import { createStreamPositions, precedingStreamId } from "./positions.ts";

/**
 * One subscriber's cursor: the only place its positions advance. Each method decides what is new (dedupe by
 * position: a replayed message that also arrives live is sent once), records it, and returns the frame text;
 * the frames themselves are built by pure functions from the item and the `id:` (docs/sse.md, "Resume").
 */
export interface StreamCursor {
  /** Positions every channel before the first frame: a resumed one at its cursor, a live-only one at "now". */
  start(results: readonly HistoryResult[]): void;
  /** Positions a channel at `position` before any frame, when no history read was needed for it. */
  startAt(position: ChannelPosition): void;
  /** Frames for one channel's replay page: `event: reset` first where continuity was lost, then the messages. */
  replay(result: HistoryResult): string;
  /** The frame(s) for a live item, or undefined when this stream already sent it. */
  live(item: LiveItem): string | undefined;
  /** The `id:` of the stream now (undefined while nothing positions it). */
  eventId(): string | undefined;
}

export function createStreamCursor(
  channels: readonly string[],
  patterns: readonly string[],
  resume: ReadonlyMap<string, ChannelPosition> | null,
): StreamCursor {
  const single = channels.length === 1 && patterns.length === 0;
  const positions = createStreamPositions(single, new Set(channels));

  function message(item: LiveMessage): string {
    if (!positions.isNew(item.position)) return "";
    positions.advance(item.position);
    // A one-channel stream's id is the message's own cursor: the frame was built once for every subscriber.
    return single ? item.frame : messageFrame(positions.eventId(), item.body);
  }
  function reset(position: ChannelPosition, notice: ResetNotice): string {
    positions.advance(position);
    return resetFrame(positions.eventId(), notice);
  }

  return {
    start(results) {
      for (const result of results) positions.advance(resume?.get(result.channel) ?? result.position);
    },
    startAt(position) {
      positions.advance(position);
    },
    replay(result) {
      if (!resume?.has(result.channel)) return "";
      let text = "";
      if (result.reset) {
        text += reset(resetPosition(result), {
          channel: result.channel,
          reason: result.reset.reason,
          oldest: result.reset.oldest,
        });
      }
      for (const stored of result.messages) text += message(frameMessage(stored, decodeCursor(stored.id)));
      return text;
    },
    live(item) {
      if (item.kind === "reset") {
        const sent = positions.get(item.channel);
        if (sent?.epoch === item.epoch) return undefined; // already past the drop (replay or a twin stream)
        return reset(
          { channel: item.channel, epoch: item.epoch, streamId: START_STREAM_ID },
          { channel: item.channel, reason: item.reason, oldest: null },
        );
      }
      const { position } = item;
      if (!positions.isNew(position)) return undefined;
      let text = "";
      const sent = positions.get(position.channel);
      if (sent && sent.epoch !== EMPTY_EPOCH && sent.epoch !== position.epoch) {
        // The history this stream followed is gone (expired or flushed) and a new one began: say so.
        text += reset(
          { ...position, streamId: precedingStreamId(position.streamId) },
          { channel: position.channel, reason: "epoch", oldest: encodeCursor(position) },
        );
      }
      return text + message(item);
    },
    eventId: () => positions.eventId(),
  };
}

/** Where a reset leaves the channel: right before the oldest retained message, so a reconnect replays it. */
function resetPosition(result: HistoryResult): ChannelPosition {
  const oldest = result.reset?.oldest ?? null;
  if (oldest !== null) {
    const first = decodeCursor(oldest);
    return { ...first, streamId: precedingStreamId(first.streamId) };
  }
  if (result.epoch !== null)
    return { channel: result.channel, epoch: result.epoch, streamId: result.lastGeneratedId };
  return { channel: result.channel, epoch: EMPTY_EPOCH, streamId: START_STREAM_ID };
}

/** A message frame: its `id:` line, then the body built once per channel. */
export function messageFrame(eventId: string | undefined, body: string): string {
  return eventId === undefined ? body : `id: ${eventId}\n${body}`;
}

export function resetFrame(eventId: string | undefined, notice: ResetNotice): string {
  return formatFrame({ id: eventId, event: "reset", data: JSON.stringify(notice) });
}
