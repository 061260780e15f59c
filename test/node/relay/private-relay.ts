import { startNodeRelay } from "../../../src/entry/node.ts";
import type { ProxyOptions } from "../../../src/proxy/index.ts";
import { scrapeProxyMetrics } from "../../../src/proxy/metrics-text.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { startTestStack, type TestStack } from "../../helpers/stack.ts";

export interface PrivateRelay {
  /** http://127.0.0.1:<port> of the relay's Node entry. */
  url: string;
  /** The private redis-server and proxy behind it. */
  stack: TestStack;
  close(): Promise<void>;
}

/**
 * The relay's Node entry in front of a private redis-server + proxy, for tests that change Redis itself or
 * depend on the whole keyspace (which tests on the shared stack would disturb).
 */
export async function startPrivateRelay(
  settings: Record<string, string> = {},
  proxyOptions: Partial<ProxyOptions> = {},
): Promise<PrivateRelay> {
  const stack = await startTestStack(proxyOptions);
  try {
    const relay = await startNodeRelay({
      UPSTASH_REDIS_REST_URL: stack.restUrl,
      UPSTASH_REDIS_REST_TOKEN: stack.restToken,
      RELAY_JWT_SECRET: TEST_JWT_SECRET,
      HOST: "127.0.0.1",
      PORT: "0",
      ...settings,
    });
    return {
      url: relay.url,
      stack,
      async close() {
        await relay.close();
        await stack.stop();
      },
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/** The private proxy's `upstash_proxy_open_streams`: one per SSE stream or waiting long-poll the relay holds. */
export async function openUpstreamStreams(relay: PrivateRelay): Promise<number> {
  return (await scrapeProxyMetrics(relay.stack.restUrl)).openStreams;
}

/** Polls `openUpstreamStreams` until `expected` or `timeoutMs` passes; returns the last count seen. */
export async function waitForUpstreamStreams(
  relay: PrivateRelay,
  expected: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await openUpstreamStreams(relay);
    if (open === expected || Date.now() > deadline) return open;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
