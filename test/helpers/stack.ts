import type { RedisServer } from "../../src/cli/redis-server.ts";
import { startStack } from "../../src/cli/stack.ts";
import type { ProxyOptions } from "../../src/proxy/index.ts";

export interface TestStack {
  /** redis://127.0.0.1:<port> of the private redis-server (for plain TCP clients in interop tests). */
  redisUrl: string;
  /** http://127.0.0.1:<port> of the Upstash-compatible REST proxy in front of it. */
  restUrl: string;
  restToken: string;
  redis: RedisServer;
  stop(): Promise<void>;
}

/**
 * A private redis-server plus the REST proxy on free loopback ports (the shared bootstrap, src/cli/stack.ts): the
 * real parts every test uses. `proxyOptions` tunes the proxy (e.g. a short `commandTimeoutMs` for a test that
 * freezes Redis).
 */
export async function startTestStack(proxyOptions: Partial<ProxyOptions> = {}): Promise<TestStack> {
  const stack = await startStack({ proxy: { options: proxyOptions } });
  return {
    redisUrl: stack.redisUrl,
    restUrl: stack.proxyUrl,
    restToken: stack.proxyToken,
    redis: stack.redis as RedisServer,
    stop: stack.stop,
  };
}
