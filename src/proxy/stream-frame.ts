import { KEEPALIVE_FRAME as KEEPALIVE_TEXT } from "../protocol/stream-headers.ts";

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

/**
 * The subscribe stream is line-based and the client treats every line starting with `data: ` as an event.
 * A payload or channel name holding a line break would let its tail pose as an event of its own, so each
 * line break is followed by a space: the tail lands on a line no parser reads as `data:`. (The client cuts
 * a payload at its first LF anyway; a lone CR stays, followed by the space.)
 */
export function neutraliseLineBreaks(bytes: Buffer): Buffer {
  if (bytes.indexOf(LF) === -1 && bytes.indexOf(CR) === -1) return bytes;
  const out: number[] = [];
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index] as number;
    out.push(byte);
    const breaksLine = byte === LF || (byte === CR && bytes[index + 1] !== LF);
    if (breaksLine) out.push(SPACE);
  }
  return Buffer.from(out);
}

/** One stream event: `data: <fields joined by commas>\n\n`, built once and written to every listener. */
export function streamFrame(fields: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from("data: ")];
  fields.forEach((field, index) => {
    if (index > 0) parts.push(COMMA);
    parts.push(neutraliseLineBreaks(typeof field === "string" ? Buffer.from(field) : field));
  });
  parts.push(END);
  return Buffer.concat(parts);
}

const COMMA = Buffer.from(",");
const END = Buffer.from("\n\n");

/** An SSE comment: ignored by every parser, keeps idle connections from being cut by intermediaries. */
export const KEEPALIVE_FRAME = Buffer.from(KEEPALIVE_TEXT);
