import * as z from "zod";
import {
  type ChannelPosition,
  EPOCH_REGEX,
  encodeCursor,
  parseStreamId,
  streamIdTime,
} from "../../protocol/cursor.ts";
import type { JsonValue, Message } from "../../protocol/message.ts";
import { DEFAULT_EVENT, EVENT_REGEX, RESERVED_EVENTS } from "../../protocol/names.ts";
import { jsonDepth, MAX_JSON_DEPTH } from "../json-depth.ts";
import { parseJsonExact } from "../json-numbers.ts";

/** The stored form of one message: the fields of its stream entry (docs/data-model.md). */
export interface StoredEntry {
  data: string;
  type: "json" | "text";
  event?: string;
}

/** The Message clients see, built from a stream entry of `channel` in `epoch`. */
export function messageFromEntry(
  channel: string,
  epoch: string,
  streamId: string,
  entry: StoredEntry,
): Message {
  return {
    id: encodeCursor({ channel, epoch, streamId }),
    channel,
    event: validEvent(entry.event),
    data: decodeData(entry),
    time: streamIdTime(streamId),
  };
}

/** Entry fields from XRANGE's flat `[field, value, ...]` list; unknown fields are ignored. */
export function entryFromFields(fields: readonly unknown[]): StoredEntry {
  const entry: StoredEntry = { data: "", type: "text" };
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = String(fields[i + 1]);
    if (name === "data") entry.data = value;
    else if (name === "type") entry.type = value === "json" ? "json" : "text";
    else if (name === "event") entry.event = value;
  }
  return entry;
}

/**
 * The stored event name if it is a valid, unreserved one; else `message`. Entries written by foreign
 * publishers may hold anything (CR/LF, `reset`), and an event name ends up in an SSE `event:` line.
 */
export function validEvent(event: string | undefined): string {
  return event !== undefined && EVENT_REGEX.test(event) && !RESERVED_EVENTS.includes(event)
    ? event
    : DEFAULT_EVENT;
}

function decodeData(entry: StoredEntry): JsonValue {
  // Too deep to serialise again (a foreign publisher's entry): deliver the text, so the channel stays readable.
  if (entry.type !== "json" || jsonDepth(entry.data) > MAX_JSON_DEPTH) return entry.data;
  try {
    return parseJsonExact(entry.data) as JsonValue;
  } catch {
    // A foreign publisher stored invalid JSON under type=json: deliver its text rather than nothing.
    return entry.data;
  }
}

const messageNoteSchema = z.object({
  id: z.string(),
  epoch: z.string().regex(EPOCH_REGEX),
  type: z.enum(["json", "text"]),
  data: z.string(),
  event: z.string().optional(),
});
const resetNoteSchema = z.object({ reset: z.literal("deleted"), epoch: z.string().regex(EPOCH_REGEX) });

/** What arrives on `relay:{<ch>}:live`: a stored message, or the news that the channel was dropped. */
export type LiveNotification =
  | { kind: "message"; message: Message; position: ChannelPosition }
  | { kind: "reset"; channel: string; reason: "deleted"; epoch: string };

/**
 * Parses one live notification (one line of compact JSON written by the publish or drop script) for
 * `channel`. Returns null for anything else, so a foreign PUBLISH on a relay channel cannot crash a stream.
 */
export function parseLiveNotification(channel: string, line: string): LiveNotification | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const reset = resetNoteSchema.safeParse(value);
  if (reset.success) return { kind: "reset", channel, reason: "deleted", epoch: reset.data.epoch };
  const note = messageNoteSchema.safeParse(value);
  if (!note.success) return null;
  const streamId = parseStreamId(note.data.id);
  if (streamId === null) return null;
  const entry: StoredEntry = { data: note.data.data, type: note.data.type };
  if (note.data.event) entry.event = note.data.event;
  return {
    kind: "message",
    message: messageFromEntry(channel, note.data.epoch, streamId, entry),
    position: { channel, epoch: note.data.epoch, streamId },
  };
}
