import { Redis } from "@upstash/redis/cloudflare";
import type { RelayConfig } from "../config.ts";

/**
 * Counts the HTTP requests the Redis client makes: each is one Workers subrequest (budget: 50 on the
 * Free plan, 10,000 on Paid). A subscribe stream counts once, for its whole life.
 */
export interface RedisCallCounter {
  count: number;
}

export interface RelayRedisOptions {
  /** Incremented once per HTTP request to the Upstash endpoint. */
  counter?: RedisCallCounter;
  /**
   * Aborts in-flight requests (e.g. the client went away); a function is called once per request (a fresh
   * `AbortSignal.timeout(ms)` bounds each one).
   */
  signal?: AbortSignal | (() => AbortSignal);
}

/**
 * The relay's Redis client over the Upstash REST protocol. `@upstash/redis/cloudflare` is web-only, so the
 * same build runs on workerd, Deno and Node.
 * - automaticDeserialization off: values stay the exact strings stored ("123" stays a string).
 * - responseEncoding off (no base64): the client decodes base64 replies with a default TextDecoder, which
 *   drops a leading BOM from every value; plain JSON strings keep the text exactly (invalid UTF-8 becomes
 *   U+FFFD either way).
 * - no retry: a network error is not re-sent behind our back, so a publish cannot run twice unseen; it
 *   fails fast (503 or 504 `outcome_unknown`, docs/api.md) and the caller retries with an Idempotency-Key.
 *   `retry: false` is not enough: @upstash/redis 1.39 still makes a second attempt with it (its loop runs
 *   `attempts` + 1 times and `false` means one attempt); zero retries is exactly one request.
 * - auto-pipelining off: every round trip is explicit (pipelines where we want them), so subrequests
 *   are countable and no batch mixes two requests' I/O (workerd forbids sharing I/O across requests).
 * - readYourWrites off: a single primary is already consistent, and the sync token would make the
 *   client stateful across requests.
 * Create one per request: construction is cheap and carries no connection.
 */
export function createRelayRedis(config: RelayConfig, options: RelayRedisOptions = {}): Redis {
  const redis = new Redis({
    url: config.upstash.url,
    token: config.upstash.token,
    automaticDeserialization: false,
    responseEncoding: false,
    retry: { retries: 0, backoff: () => 0 },
    enableAutoPipelining: false,
    readYourWrites: false,
    enableTelemetry: false,
    signal: options.signal,
  });
  const counter = options.counter;
  if (counter) {
    redis.use((request, next) => {
      counter.count += 1;
      return next(request);
    });
  }
  return redis;
}

/** A Redis error message from the Upstash client, e.g. "WRONGTYPE ..." or "NOSCRIPT ...". */
export function redisErrorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
