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
import { createStreamPositions, precedingStreamId, type StreamPositions } from "./positions.ts";

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
  return new Cursor(channels.length === 1 && patterns.length === 0, new Set(channels), resume);
}

/** A class: it lives as long as its stream, and open streams share its methods (no closures per stream). */
class Cursor implements StreamCursor {
  readonly #single: boolean;
  readonly #positions: StreamPositions;
  readonly #resume: ReadonlyMap<string, ChannelPosition> | null;

  constructor(
    single: boolean,
    pinned: ReadonlySet<string>,
    resume: ReadonlyMap<string, ChannelPosition> | null,
  ) {
    this.#single = single;
    this.#positions = createStreamPositions(single, pinned);
    this.#resume = resume;
  }

  start(results: readonly HistoryResult[]) {
    for (const result of results)
      this.#positions.advance(this.#resume?.get(result.channel) ?? result.position);
  }

  startAt(position: ChannelPosition) {
    this.#positions.advance(position);
  }

  replay(result: HistoryResult): string {
    if (!this.#resume?.has(result.channel)) return "";
    let text = "";
    if (result.reset) {
      text += this.#reset(resetPosition(result), {
        channel: result.channel,
        reason: result.reset.reason,
        oldest: result.reset.oldest,
      });
    }
    for (const stored of result.messages)
      text += this.#message(frameMessage(stored, decodeCursor(stored.id)));
    return text;
  }

  live(item: LiveItem): string | undefined {
    const positions = this.#positions;
    if (item.kind === "reset") {
      const sent = positions.get(item.channel);
      if (sent?.epoch === item.epoch) return undefined; // already past the drop (replay or a twin stream)
      return this.#reset(
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
      text += this.#reset(
        { ...position, streamId: precedingStreamId(position.streamId) },
        { channel: position.channel, reason: "epoch", oldest: encodeCursor(position) },
      );
    }
    return text + this.#message(item);
  }

  eventId(): string | undefined {
    return this.#positions.eventId();
  }

  #message(item: LiveMessage): string {
    if (!this.#positions.isNew(item.position)) return "";
    this.#positions.advance(item.position);
    // A one-channel stream's id is the message's own cursor: the frame was built once for every subscriber.
    return this.#single ? item.frame : messageFrame(this.#positions.eventId(), item.body);
  }

  #reset(position: ChannelPosition, notice: ResetNotice): string {
    this.#positions.advance(position);
    return resetFrame(this.#positions.eventId(), notice);
  }
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
