import type { RedisReply } from "./reply.ts";

/** The JSON shapes Upstash puts in `result`: strings, numbers, null and arrays of those. */
export type JsonReply = string | number | null | JsonReply[];

/** How strings leave the proxy: `base64` of Redis's raw bytes (binary-safe) or UTF-8 text. */
export type ResponseEncoding = "base64" | "utf8";

/**
 * Turns a Redis reply into the JSON value of `{"result": ...}`.
 *
 * With base64 every string at every depth is encoded from the raw bytes, "OK" included: the client
 * decodes first-level array elements without its "OK" exemption, so a raw "OK" there would come back
 * as the number 8. Numbers and null are never encoded. Without base64, invalid UTF-8 becomes U+FFFD,
 * as Upstash does.
 *
 * Integers stay JSON numbers while they are exact in a double; beyond 2^53 they become decimal strings,
 * which the client keeps as strings instead of silently rounding them.
 *
 * An error nested below the first level (a Lua table holding `{err=...}`) has no JSON shape of its own;
 * it becomes its message text, encoded like any string.
 */
export function encodeReply(reply: RedisReply, encoding: ResponseEncoding): JsonReply {
  if (reply === null) return null;
  if (Buffer.isBuffer(reply))
    return encoding === "base64" ? reply.toString("base64") : reply.toString("utf8");
  if (typeof reply === "string") return encodeInteger(reply, encoding);
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, encoding));
  return encodeText(reply.message, encoding);
}

function encodeInteger(digits: string, encoding: ResponseEncoding): JsonReply {
  const value = Number(digits);
  return Number.isSafeInteger(value) ? value : encodeText(digits, encoding);
}

function encodeText(text: string, encoding: ResponseEncoding): string {
  return encoding === "base64" ? Buffer.from(text, "utf8").toString("base64") : text;
}

/** The encoding a request asked for with `Upstash-Encoding` (case-insensitive, as header values go). */
export function responseEncodingOf(headerValue: string | string[] | undefined): ResponseEncoding {
  const value = Array.isArray(headerValue) ? headerValue[0] : headerValue;
  return value?.trim().toLowerCase() === "base64" ? "base64" : "utf8";
}
