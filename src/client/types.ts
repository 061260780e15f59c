import type { JsonValue, Message, ResetNotice as ResetFrame } from "../protocol/message-shape.ts";

export type { JsonValue, ResetReason } from "../protocol/message-shape.ts";

/** A published message as the relay delivers it (docs/api.md), typed by its data. */
export type RelayMessage<T = JsonValue> = Omit<Message, "data"> & { data: T };

/**
 * The relay could not resume exactly where asked: messages may have been lost (history trimmed or expired,
 * channel deleted, Redis restarted). Delivery continues from `oldest`, so resynchronise your state.
 */
export type ResetNotice = { type: "reset" } & ResetFrame;

/** What a subscription yields: messages, and a reset notice whenever continuity was lost. */
export type SubscriptionEvent<T = JsonValue> = ({ type: "message" } & RelayMessage<T>) | ResetNotice;

/** Publish acknowledgement. */
export interface Published {
  /** The message's cursor. */
  id: string;
  channel: string;
  time: number;
}

export interface HistoryPage<T = JsonValue> {
  messages: RelayMessage<T>[];
  /** Where to continue (pass as `after`). */
  cursor: string;
  /** True when messages between `after` and the first returned one are gone. */
  gap: boolean;
}
