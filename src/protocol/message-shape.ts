/**
 * The message object and the reset frame's data as plain types and constants, no zod, so the client SDK can
 * share them. `message.ts` adds the relay's zod schemas and re-exports these.
 */

/** A JSON value as it travels in message `data` (a text message's data is a JSON string). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One published message, as history, long-poll and SSE `data:` carry it. */
export interface Message {
  /** The message's single-channel cursor (see cursor.ts). */
  id: string;
  channel: string;
  /** SSE event type; `message` unless the publisher set `?event=`. */
  event: string;
  /** The JSON value published, or the text of a `text/*` publish. */
  data: JsonValue;
  /** Milliseconds since the epoch at which Redis stored the message (from its stream id). */
  time: number;
}

/** Continuity loss reasons of an `event: reset` frame and of a history read (docs/sse.md). */
export const RESET_REASONS = ["trimmed", "epoch", "deleted", "unknown"] as const;
export type ResetReason = (typeof RESET_REASONS)[number];

/** The `data:` of an SSE `event: reset` frame. */
export interface ResetNotice {
  channel: string;
  reason: ResetReason;
  /** Cursor of the oldest retained message, or null when none is retained. */
  oldest: string | null;
}
