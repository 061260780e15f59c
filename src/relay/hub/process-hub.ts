import type { RelayConfig } from "../config.ts";
import { createRelayRedis } from "../redis/client.ts";
import { type ChannelHub, createChannelHub } from "./channel-hub.ts";

/**
 * The hub of a long-lived process (Node, Deno), or undefined when RELAY_HUB=off (the direct path: one upstream
 * stream per SSE stream and long-poll). Its Redis client is its own, shared by every feed: it carries no
 * per-request state (auto-pipelining and read-your-writes are off). Its reads are bounded by
 * RELAY_HUB_READ_TIMEOUT_MS (docs/deploy.md).
 */
export function createProcessHub(config: RelayConfig): ChannelHub | undefined {
  if (!config.hub) return undefined;
  return createChannelHub({
    // Each read's request is aborted at the timeout too, so a frozen endpoint does not collect hung fetches.
    redis: createRelayRedis(config, { signal: () => AbortSignal.timeout(config.hubReadTimeoutMs) }),
    upstream: config.upstash,
    checkIntervalMs: config.heartbeatMs,
    readTimeoutMs: config.hubReadTimeoutMs,
  });
}
