import {
  type ChannelPosition,
  EPOCH_REGEX,
  encodeCursor,
  parseStreamId,
  streamIdTime,
} from "../../protocol/cursor.ts";
import type { Message } from "../../protocol/message.ts";
import { DEFAULT_EVENT } from "../../protocol/names.ts";
import { jsonDepth, MAX_JSON_DEPTH } from "../json-depth.ts";
import { validEvent } from "../redis/notification.ts";

/**
 * One live item of a relay channel, parsed and framed once however many subscribers get it: the path of a
 * message is upstream line → LiveItem (here) → each subscriber's cursor (dedupe, `id:`) → write.
 */
export type LiveItem = LiveMessage | LiveReset;

export interface LiveMessage {
  kind: "message";
  position: ChannelPosition;
  /** The message object (docs/api.md) as JSON text: what `data:` and a long-poll answer carry. */
  json: string;
  /** The frame after its `id:` line: `event:` (custom types only), the `data:` line(s), the blank line. */
  body: string;
  /** The whole frame of a one-channel stream, whose `id:` is the message's own cursor. */
  frame: string;
}

/** The channel was dropped (DELETE): its history starts again in `epoch`. */
export interface LiveReset {
  kind: "reset";
  channel: string;
  reason: "deleted";
  epoch: string;
}

/** The stored form of one message (docs/data-model.md): the fields of its stream entry. */
interface StoredNote {
  data: string;
  type: "json" | "text";
  event?: string;
}

/**
 * Parses one line of `relay:{<ch>}:live` (compact JSON written by the publish or drop script) into a framed
 * item. Returns null for anything else, so a foreign PUBLISH on a relay channel cannot break a stream.
 */
export function parseLiveItem(channel: string, line: string): LiveItem | null {
  let note: unknown;
  try {
    note = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof note !== "object" || note === null || Array.isArray(note)) return null;
  const fields = note as Record<string, unknown>;
  const epoch = fields.epoch;
  if (typeof epoch !== "string" || !EPOCH_REGEX.test(epoch)) return null;
  if (fields.reset === "deleted") return { kind: "reset", channel, reason: "deleted", epoch };
  const { id, type, data, event } = fields;
  if (typeof id !== "string" || typeof data !== "string" || (type !== "json" && type !== "text")) return null;
  if (event !== undefined && typeof event !== "string") return null;
  const streamId = parseStreamId(id);
  if (streamId === null) return null;
  return frameStored({ channel, epoch, streamId }, { data, type, event });
}

/**
 * Frames a stored message. A JSON entry's text is spliced into the message object as it is, with no parse and
 * re-stringify per subscriber (its digits stay exactly as published). An entry a foreign writer stored under
 * type=json that is not valid JSON, or nests too deep to be read back safely, is delivered as its text.
 */
function frameStored(position: ChannelPosition, note: StoredNote): LiveMessage {
  const dataJson =
    note.type === "json" && isSafeJson(note.data) ? note.data.trim() : JSON.stringify(note.data);
  return framed(position, validEvent(note.event), dataJson);
}

/** Frames a message read from history (already decoded): the replay and gap-fill path. */
export function frameMessage(message: Message, position: ChannelPosition): LiveMessage {
  return framed(position, message.event, JSON.stringify(message.data));
}

function framed(position: ChannelPosition, event: string, dataJson: string): LiveMessage {
  const id = encodeCursor(position);
  const json =
    `{"id":${JSON.stringify(id)},"channel":${JSON.stringify(position.channel)},` +
    `"event":${JSON.stringify(event)},"data":${dataJson},"time":${streamIdTime(position.streamId)}}`;
  // Valid JSON holds line breaks only as whitespace between tokens: one `data:` line per line keeps it intact.
  let body = event === DEFAULT_EVENT ? "" : `event: ${event}\n`;
  for (const line of json.split(LINE_BREAK)) body += `data: ${line}\n`;
  body += "\n";
  return { kind: "message", position, json, body, frame: `id: ${id}\n${body}` };
}

const LINE_BREAK = /\r\n|\r|\n/;

function isSafeJson(text: string): boolean {
  if (jsonDepth(text) > MAX_JSON_DEPTH) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
