import { CHANNEL_REGEX } from "./name-rules.ts";

/**
 * Cursors: opaque to clients, URL-safe (only `A-Z a-z 0-9 - _ . ~`), never a newline.
 *
 * Single-channel cursor  `<base64url(channel)>.<epoch>.<ms>-<seq>`
 *   - carries its channel, so it can position that channel inside a multi-channel stream;
 *   - `epoch` is the channel's `relay:{<ch>}:epoch` value (A-Z a-z 0-9 - _), or `0` = "no history yet";
 *   - `<ms>-<seq>` is the Redis stream id of the message (`0-0` = before the first message).
 * Compound cursor  `<single>~<single>~...`: one position per channel, at most one per channel.
 *   A single-channel cursor is therefore also a valid compound cursor of one position.
 */
export interface ChannelPosition {
  channel: string;
  /** The channel's epoch, or EMPTY_EPOCH when the channel had no history when the position was taken. */
  epoch: string;
  /** Redis stream id `<ms>-<seq>` (canonical decimal, no leading zeros). */
  streamId: string;
}

export const EMPTY_EPOCH = "0";
export const START_STREAM_ID = "0-0";
export const MAX_COMPOUND_POSITIONS = 256;
const MAX_SINGLE_CURSOR_LENGTH = 400;
/** The longest compound cursor: MAX_COMPOUND_POSITIONS single cursors joined with `~`. */
export const MAX_COMPOUND_CURSOR_LENGTH = (MAX_SINGLE_CURSOR_LENGTH + 1) * MAX_COMPOUND_POSITIONS - 1;
export const EPOCH_REGEX = /^[A-Za-z0-9_-]{1,64}$/;
const STREAM_ID_REGEX = /^(\d{1,20})-(\d{1,20})$/;
const MAX_U64 = (1n << 64n) - 1n;

export class CursorError extends Error {
  override name = "CursorError";
}

/** Canonical `<ms>-<seq>` or null when the text is not a valid Redis stream id (each part ≤ 2^64-1). */
export function parseStreamId(text: string): string | null {
  const match = STREAM_ID_REGEX.exec(text);
  if (!match) return null;
  const ms = BigInt(match[1] as string);
  const seq = BigInt(match[2] as string);
  if (ms > MAX_U64 || seq > MAX_U64) return null;
  return `${ms}-${seq}`;
}

/**
 * Orders two canonical stream ids (no leading zeros, as parseStreamId gives them): negative, zero or positive.
 * Decimal text of equal length orders like its number, so no BigInt is needed (this runs for every message and
 * every waiter on the hot path).
 */
export function compareStreamIds(a: string, b: string): number {
  if (a === b) return 0;
  const aDash = a.indexOf("-");
  const bDash = b.indexOf("-");
  return (
    compareDecimals(a.slice(0, aDash), b.slice(0, bDash)) ||
    compareDecimals(a.slice(aDash + 1), b.slice(bDash + 1))
  );
}

function compareDecimals(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Milliseconds part of a stream id: the time Redis stored the message. */
export function streamIdTime(streamId: string): number {
  return Number(streamId.slice(0, streamId.indexOf("-")));
}

export function encodeCursor(position: ChannelPosition): string {
  return `${base64UrlEncode(position.channel)}.${position.epoch}.${position.streamId}`;
}

/** Decodes a single-channel cursor; throws CursorError with a reason on anything else. */
export function decodeCursor(cursor: string): ChannelPosition {
  if (cursor.length === 0) throw new CursorError("the cursor is empty");
  if (cursor.length > MAX_SINGLE_CURSOR_LENGTH) {
    throw new CursorError(`a cursor is at most ${MAX_SINGLE_CURSOR_LENGTH} characters, got ${cursor.length}`);
  }
  const parts = cursor.split(".");
  if (parts.length !== 3) throw new CursorError("a cursor has three dot-separated parts");
  const [encodedChannel, epoch, rawId] = parts as [string, string, string];
  const channel = base64UrlDecode(encodedChannel);
  if (channel === null || !CHANNEL_REGEX.test(channel))
    throw new CursorError("the cursor names no valid channel");
  if (!EPOCH_REGEX.test(epoch)) throw new CursorError("the cursor's epoch is malformed");
  const streamId = parseStreamId(rawId);
  if (streamId === null) throw new CursorError("the cursor's stream id is malformed");
  return { channel, epoch, streamId };
}

export function encodeCompoundCursor(positions: Iterable<ChannelPosition>): string {
  return Array.from(positions, encodeCursor).join("~");
}

/**
 * Decodes a compound cursor (or a single-channel one) into a map channel → position.
 * Throws CursorError on a malformed part, too many positions or a channel named twice.
 */
export function decodeCompoundCursor(cursor: string): Map<string, ChannelPosition> {
  if (cursor.length === 0) throw new CursorError("the cursor is empty");
  const parts = cursor.split("~");
  if (parts.length > MAX_COMPOUND_POSITIONS) {
    throw new CursorError(
      `a cursor holds at most ${MAX_COMPOUND_POSITIONS} channel positions, got ${parts.length}`,
    );
  }
  const positions = new Map<string, ChannelPosition>();
  for (const part of parts) {
    const position = decodeCursor(part);
    if (positions.has(position.channel))
      throw new CursorError(`the cursor names channel ${position.channel} twice`);
    positions.set(position.channel, position);
  }
  return positions;
}

function base64UrlEncode(ascii: string): string {
  return btoa(ascii).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function base64UrlDecode(text: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text) || text.length % 4 === 1) return null;
  try {
    return atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
}
