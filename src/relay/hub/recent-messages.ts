import { type ChannelPosition, compareStreamIds } from "../../protocol/cursor.ts";
import type { LiveMessage } from "../live/live-item.ts";

export interface RecentLimits {
  /** Messages kept at most. */
  count: number;
  /** JSON text kept at most, in characters (a few large messages must not pin megabytes per channel). */
  chars: number;
}

/** Enough to answer long-poll loops a few messages behind (docs/api.md, long-poll) at a bounded memory cost. */
export const DEFAULT_RECENT_LIMITS: RecentLimits = { count: 64, chars: 256 * 1024 };

/**
 * The newest messages a channel feed delivered, contiguous: every message stored after `base` up to the newest
 * one is here, in order. So a long-poll whose cursor is at or after `base` is answered without history: with
 * what follows its cursor, or with nothing (it is at the newest position and waits for the live feed).
 * Whoever feeds it must `restart` it whenever contiguity is not certain (an epoch change, a loss).
 */
export class RecentMessages {
  private base: ChannelPosition | undefined;
  private messages: LiveMessage[] = [];
  private chars = 0;
  private readonly limits: RecentLimits;

  constructor(limits: RecentLimits = DEFAULT_RECENT_LIMITS) {
    this.limits = limits;
  }

  /** Whether it has a base: false until `restart` gave it one (or after `restart(undefined)`). */
  get isKnown(): boolean {
    return this.base !== undefined;
  }

  /** Nothing is known before `base` any more; messages after it will be pushed. Undefined: nothing known. */
  restart(base: ChannelPosition | undefined): void {
    this.base = base;
    this.messages = [];
    this.chars = 0;
  }

  /**
   * The next message delivered on the channel (in order, once). In another epoch nothing says what came before
   * it there, so the record starts again right after it.
   */
  push(message: LiveMessage): void {
    if (!this.base) return;
    if (message.position.epoch !== this.base.epoch) {
      this.restart(message.position);
      return;
    }
    this.messages.push(message);
    this.chars += message.json.length;
    while (
      this.messages.length > this.limits.count ||
      (this.chars > this.limits.chars && this.messages.length > 1)
    ) {
      const dropped = this.messages.shift() as LiveMessage;
      this.chars -= dropped.json.length;
      this.base = dropped.position;
    }
  }

  /**
   * The messages after `cursor` (at most `limit`): [] when `cursor` is the newest position; undefined when this
   * cannot tell without history (nothing known, another epoch, older than `base`, or ahead of the newest).
   */
  after(cursor: ChannelPosition, limit: number): LiveMessage[] | undefined {
    const base = this.base;
    if (!base || cursor.channel !== base.channel || cursor.epoch !== base.epoch) return undefined;
    if (compareStreamIds(cursor.streamId, base.streamId) < 0) return undefined;
    const newest = this.messages.at(-1)?.position ?? base;
    if (compareStreamIds(cursor.streamId, newest.streamId) > 0) return undefined;
    // From the newest back: a waiter is usually at the newest position or a few messages behind it.
    let first = this.messages.length;
    while (
      first > 0 &&
      compareStreamIds((this.messages[first - 1] as LiveMessage).position.streamId, cursor.streamId) > 0
    )
      first -= 1;
    return this.messages.slice(first, first + limit);
  }
}
