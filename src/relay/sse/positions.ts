import {
  type ChannelPosition,
  compareStreamIds,
  EMPTY_EPOCH,
  encodeCompoundCursor,
  encodeCursor,
  MAX_COMPOUND_POSITIONS,
} from "../../protocol/cursor.ts";

/**
 * Where an SSE stream stands on each of its channels: what it already sent, and the `id:` to resume from.
 * One-channel streams use that channel's single cursor as `id:`; streams of several channels or of any pattern
 * use a compound cursor with one position per channel (docs/data-model.md).
 */
export interface StreamPositions {
  /** True when `position` is newer than what was sent on its channel (not a duplicate of a replayed message). */
  isNew(position: ChannelPosition): boolean;
  /** Records that everything up to `position` was sent on its channel. */
  advance(position: ChannelPosition): void;
  get(channel: string): ChannelPosition | undefined;
  /** The `id:` for the next frame; undefined while nothing positions the stream. */
  eventId(): string | undefined;
}

/**
 * @param single true for a stream of exactly one channel and no pattern.
 * @param pinned channels named explicitly: they keep their position in the compound cursor; channels found
 *   through a pattern are evicted oldest-first once the cursor would exceed its position limit.
 */
export function createStreamPositions(single: boolean, pinned: ReadonlySet<string>): StreamPositions {
  return new Positions(single, pinned);
}

/** A class: it lives as long as its stream, and open streams share its methods (no closures per stream). */
class Positions implements StreamPositions {
  readonly #single: boolean;
  readonly #pinned: ReadonlySet<string>;
  /** Map order = least recently advanced first, which is the eviction order for pattern-found channels. */
  readonly #positions = new Map<string, ChannelPosition>();

  constructor(single: boolean, pinned: ReadonlySet<string>) {
    this.#single = single;
    this.#pinned = pinned;
  }

  isNew(position: ChannelPosition): boolean {
    const sent = this.#positions.get(position.channel);
    if (sent === undefined || sent.epoch === EMPTY_EPOCH) return true;
    // Another epoch is a new history (the channel was dropped and published again while we listened).
    if (sent.epoch !== position.epoch) return true;
    return compareStreamIds(position.streamId, sent.streamId) > 0;
  }

  advance(position: ChannelPosition) {
    const positions = this.#positions;
    positions.delete(position.channel);
    positions.set(position.channel, position);
    if (positions.size <= MAX_COMPOUND_POSITIONS) return;
    for (const channel of positions.keys()) {
      if (positions.size <= MAX_COMPOUND_POSITIONS) break;
      if (!this.#pinned.has(channel)) positions.delete(channel);
    }
  }

  get(channel: string): ChannelPosition | undefined {
    return this.#positions.get(channel);
  }

  eventId(): string | undefined {
    if (this.#positions.size === 0) return undefined;
    if (this.#single) {
      const only = this.#positions.values().next().value as ChannelPosition;
      return encodeCursor(only);
    }
    return encodeCompoundCursor(this.#positions.values());
  }
}

/**
 * The stream id just before `streamId`: a reset frame's `id:` positions the client right before the oldest
 * retained message, so a reconnect replays it and does not reset again.
 */
export function precedingStreamId(streamId: string): string {
  const [ms, seq] = streamId.split("-").map(BigInt) as [bigint, bigint];
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  if (ms > 0n) return `${ms - 1n}-${(1n << 64n) - 1n}`;
  return "0-0";
}
