import type { Claims } from "./claims.ts";

/**
 * Tokens this process (or isolate) verified lately, so a client that polls or reconnects with the same token
 * does not pay a signature check per request (about a fifth of the relay's CPU per long-poll, docs/benchmarks.md).
 * Only successes are kept, each until the earlier of its `exp` and `TTL_MS` from now, so an expired token is
 * verified again, and refused, exactly when it would have been without the cache. Keyed by the whole token
 * string: another signature is another key. Bounded: the oldest entry goes first.
 */
export interface VerifiedTokens {
  get(token: string, now?: number): Claims | undefined;
  set(token: string, claims: Claims, now?: number): void;
  readonly size: number;
}

export const VERIFIED_TOKEN_TTL_MS = 60_000;
export const VERIFIED_TOKEN_LIMIT = 10_000;

export function createVerifiedTokens(
  limit = VERIFIED_TOKEN_LIMIT,
  ttlMs = VERIFIED_TOKEN_TTL_MS,
): VerifiedTokens {
  const entries = new Map<string, { claims: Claims; until: number }>();
  return {
    get(token, now = Date.now()) {
      const entry = entries.get(token);
      if (entry === undefined) return undefined;
      if (now < entry.until) return entry.claims;
      entries.delete(token);
      return undefined;
    },
    set(token, claims, now = Date.now()) {
      const until = Math.min(
        now + ttlMs,
        claims.exp === undefined ? Number.POSITIVE_INFINITY : claims.exp * 1000,
      );
      if (until <= now) return;
      entries.delete(token);
      entries.set(token, { claims: Object.freeze({ ...claims, scopes: [...claims.scopes] }), until });
      if (entries.size > limit) entries.delete(entries.keys().next().value as string);
    },
    get size() {
      return entries.size;
    },
  };
}
