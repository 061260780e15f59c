/**
 * The plain rules for names that travel in URLs, scopes and Redis keys: regexes and constants only, no zod, so
 * the client SDK (and the browser page that bundles it) can use them without pulling in a validation library.
 * `names.ts` builds the relay's zod schemas on top of these and re-exports them.
 */

/** Channel: 1-200 of `A-Z a-z 0-9 _ . : -`, not starting with `relay:` (reserved, see RESERVED_PREFIX). */
export const CHANNEL_REGEX = /^(?!relay:)[A-Za-z0-9_.:-]{1,200}$/;
/**
 * Channel pattern (Redis PSUBSCRIBE glob): channel characters plus `*`, `?`, `[`, `]`, `^` inside brackets,
 * not starting with `relay:`.
 */
export const PATTERN_REGEX = /^(?!relay:)[A-Za-z0-9_.:*?[\]^-]{1,200}$/;
/** Event type of a published message; `reset` is reserved for the relay's continuity frame. */
export const EVENT_REGEX = /^[A-Za-z0-9_.:-]{1,64}$/;
export const RESERVED_EVENTS: readonly string[] = ["reset"];
/**
 * Idempotency key (header or batch field): 1-200 visible ASCII characters except `{` and `}`. It becomes part of
 * the key `relay:{<ch>}:idem:<key>`; with a `}` it could equal a KV key's `relay:{<key>}:meta` (KV key
 * `<ch>}:idem:a`, idempotency key `a}:meta`), and a KV writer could then delete or clobber the record.
 */
export const IDEMPOTENCY_KEY_REGEX = /^[\x21-\x7A|~]{1,200}$/;
export const DEFAULT_EVENT = "message";
/**
 * Every relay-owned Redis key and pub/sub channel starts with this, so no name a client sends may: not a KV key
 * (with RELAY_KV_PREFIX in front), not a channel, not a pattern; raw streams never deliver such channels.
 */
export const RESERVED_PREFIX = "relay:";
/** Is this Redis key or pub/sub channel in the relay's reserved namespace? */
export const isReservedName = (name: string): boolean => name.startsWith(RESERVED_PREFIX);
export const MAX_KEY_BYTES = 512;

export const isChannelName = (value: string): boolean => CHANNEL_REGEX.test(value);
