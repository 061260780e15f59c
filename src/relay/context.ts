import type { Redis } from "@upstash/redis/cloudflare";
import type { Claims } from "./auth/claims.ts";
import type { RelayConfig } from "./config.ts";
import type { ChannelHub } from "./hub/channel-hub.ts";
import type { StreamDelegate } from "./hub/delegate.ts";
import type { RedisCallCounter } from "./redis/client.ts";
import type { EventStreamFactory } from "./sse/response.ts";

/**
 * The Hono environment of every relay route. Runtime bindings are not read by routes: each entry parses
 * its environment into a RelayConfig once and hands it to createApp.
 */
export interface RelayVariables {
  config: RelayConfig;
  /** Aborted when the process begins a graceful shutdown (see shutdown.ts): streams and long-polls end. */
  shutdown: AbortSignal;
  /** This request's Redis client, built on the first call (one per request; see redis/client.ts). */
  redis: () => Redis;
  /** Redis HTTP round trips (Workers subrequests) made so far by this request. */
  redisCalls: RedisCallCounter;
  /** The verified token's claims (admin-equivalent when RELAY_AUTH=none). */
  claims: Claims;
  /** The process's (or Durable Object's) delivery hub; undefined on the direct path and in a delegating Worker. */
  hub: ChannelHub | undefined;
  /** Workers with the Durable Object binding: where validated SSE streams and long-polls are handed. */
  delegate: StreamDelegate | undefined;
  /** How SSE response bodies are written; undefined: a web ReadableStream (createEventStream). */
  eventStreams: EventStreamFactory | undefined;
}

export interface RelayEnv {
  Variables: RelayVariables;
}
