/**
 * The plain rules for names that travel in URLs, scopes and Redis keys: regexes and constants only, no zod, so
 * the client SDK (and the browser page that bundles it) can use them without pulling in a validation library.
 * `names.ts` builds the relay's zod schemas on top of these and re-exports them.
 */

/** Channel: 1-200 of `A-Z a-z 0-9 _ . : -`. */
export const CHANNEL_REGEX = /^[A-Za-z0-9_.:-]{1,200}$/;
/** Channel pattern (Redis PSUBSCRIBE glob): channel characters plus `*`, `?`, `[`, `]`, `^` inside brackets. */
export const PATTERN_REGEX = /^[A-Za-z0-9_.:*?[\]^-]{1,200}$/;
/** Event type of a published message; `reset` is reserved for the relay's continuity frame. */
export const EVENT_REGEX = /^[A-Za-z0-9_.:-]{1,64}$/;
export const RESERVED_EVENTS: readonly string[] = ["reset"];
/** Idempotency key (header or batch field): 1-200 visible ASCII characters; it becomes part of a Redis key. */
export const IDEMPOTENCY_KEY_REGEX = /^[\x21-\x7E]{1,200}$/;
export const DEFAULT_EVENT = "message";
/** Every relay-owned Redis key starts with this; KV keys never may. */
export const RESERVED_KEY_PREFIX = "relay:";
export const MAX_KEY_BYTES = 512;

export const isChannelName = (value: string): boolean => CHANNEL_REGEX.test(value);
