import * as z from "zod";
import {
  CHANNEL_REGEX,
  EVENT_REGEX,
  MAX_KEY_BYTES,
  PATTERN_REGEX,
  RESERVED_EVENTS,
  RESERVED_PREFIX,
} from "./name-rules.ts";

/**
 * Names that travel in URLs, scopes and Redis keys. They are validated before anything else looks at
 * them, so no CR/LF or control character ever reaches a header, a log line, a scope match or Redis.
 */

export * from "./name-rules.ts";

// Whitespace (incl. Unicode spaces) and control characters (C0, DEL, C1), plus lone surrogates.
const FORBIDDEN_KEY_CHAR = /[\s\p{Cc}\p{Cs}]/u;
const utf8 = new TextEncoder();

const notReserved = (what: string) =>
  [
    (name: string) => !name.startsWith(RESERVED_PREFIX),
    `${what} starting with "${RESERVED_PREFIX}" are reserved for the relay's own keys and channels`,
  ] as const;

export const channelNameSchema = z
  .string()
  .refine(...notReserved("channels"))
  .regex(CHANNEL_REGEX, "a channel is 1-200 characters of A-Z a-z 0-9 _ . : -")
  .describe("Channel name: ^[A-Za-z0-9_.:-]{1,200}$, not starting with relay:");

export const channelPatternSchema = z
  .string()
  .refine(...notReserved("patterns"))
  .regex(PATTERN_REGEX, "a pattern is 1-200 characters of A-Z a-z 0-9 _ . : - * ? [ ] ^")
  .refine(bracketsBalanced, "a pattern's [ and ] must pair up")
  .describe("Channel pattern (Redis glob): channel characters plus * ? [...], not starting with relay:");

export const eventNameSchema = z
  .string()
  .regex(EVENT_REGEX, "an event name is 1-64 characters of A-Z a-z 0-9 _ . : -")
  .refine((name) => !RESERVED_EVENTS.includes(name), "the event name `reset` is reserved for the relay")
  .describe("SSE event type: ^[A-Za-z0-9_.:-]{1,64}$, not `reset`");

export const kvKeySchema = z
  .string()
  .min(1, "a key must not be empty")
  .refine(
    (key) => utf8.encode(key).byteLength <= MAX_KEY_BYTES,
    `a key is at most ${MAX_KEY_BYTES} bytes of UTF-8`,
  )
  .refine((key) => !FORBIDDEN_KEY_CHAR.test(key), "a key must not contain whitespace or control characters")
  .refine(...notReserved("keys"))
  .describe("KV key: 1-512 bytes, no whitespace or control characters, not starting with relay:");

function bracketsBalanced(pattern: string): boolean {
  let open = false;
  for (const char of pattern) {
    if (char === "[") {
      if (open) return false;
      open = true;
    } else if (char === "]") {
      if (!open) return false;
      open = false;
    }
  }
  return !open;
}

export const isPattern = (value: string): boolean => channelPatternSchema.safeParse(value).success;
