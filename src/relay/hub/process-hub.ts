import type { RelayConfig } from "../config.ts";
import { createRelayRedis } from "../redis/client.ts";
import { type ChannelHub, createChannelHub } from "./channel-hub.ts";

/**
 * A delivery hub for the relay's config. Its Redis client is its own, shared by every feed: it carries no
 * per-request state (auto-pipelining and read-your-writes are off). Its reads are bounded by
 * RELAY_HUB_READ_TIMEOUT_MS (docs/deploy.md). The Workers Durable Object always holds one (RELAY_HUB=off makes
 * the Worker skip the object instead).
 */
export function createRelayHub(config: RelayConfig): ChannelHub {
  return createChannelHub({
    // Each read's request is aborted at the timeout too, so a frozen endpoint does not collect hung fetches.
    redis: createRelayRedis(config, { signal: () => AbortSignal.timeout(config.hubReadTimeoutMs) }),
    upstream: config.upstash,
    checkIntervalMs: config.heartbeatMs,
    readTimeoutMs: config.hubReadTimeoutMs,
  });
}

/**
 * The hub of a long-lived process (Node, Deno), or undefined when RELAY_HUB=off (the direct path: one upstream
 * stream per SSE stream and long-poll).
 */
export function createProcessHub(config: RelayConfig): ChannelHub | undefined {
  return config.hub ? createRelayHub(config) : undefined;
}
