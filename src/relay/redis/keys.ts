import { hashTag, keySlot, slotTag } from "../../protocol/key-slot.ts";

/**
 * The Redis key layout (docs/data-model.md, a public contract: other languages interoperate through it).
 * Every relay-owned key starts with `relay:` and hash-tags the channel or key, so one channel's keys share
 * a Redis Cluster slot.
 */
export const channelKeys = (channel: string) => ({
  /** stream: the channel's history */
  log: `relay:{${channel}}:log`,
  /** string: the history's epoch, a random id that changes only when history is lost */
  epoch: `relay:{${channel}}:epoch`,
  /** pub/sub channel: one line of compact JSON per message, for relay subscribers */
  live: `relay:{${channel}}:live`,
  /** pub/sub channel: the raw payload, for classic Redis subscribers */
  raw: channel,
  /** string: the id first published under an Idempotency-Key */
  idempotency: (key: string) => `relay:{${channel}}:idem:${key}`,
});

/** The pub/sub pattern a pattern subscription listens on for live notifications. */
export const livePattern = (pattern: string): string => `relay:{${pattern}}:live`;

/** Channel name back from a live notification channel `relay:{<ch>}:live`, or null. */
export function channelOfLiveChannel(liveChannel: string): string | null {
  const match = /^relay:\{(.+)\}:live$/.exec(liveChannel);
  return match ? (match[1] as string) : null;
}

/**
 * Redis keys of one KV entry; `prefix` is RELAY_KV_PREFIX. The value is the key itself (plain Redis clients GET
 * it). Its `meta` hash must share the value's cluster slot (the KV scripts touch both): `relay:{<value>}:meta`
 * does whenever the value key has no `}`; otherwise the meta key is tagged with the value's own hash tag, or, when
 * Redis hashes the whole value key, with the shortest tag of that slot (docs/data-model.md, "Keys with braces").
 */
export function kvKeys(prefix: string, key: string) {
  const value = `${prefix}${key}`;
  if (!value.includes("}")) return { value, meta: `relay:{${value}}:meta` };
  const tag = hashTag(value) ?? slotTag(keySlot(value));
  return { value, meta: `relay:{${tag}}:meta:${value}` };
}
