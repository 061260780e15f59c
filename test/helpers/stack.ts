import { randomBytes } from "node:crypto";
import { createProxy, type ProxyOptions } from "../../src/proxy/index.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

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
 * A private redis-server plus the REST proxy on free loopback ports: the real parts every test uses.
 * `proxyOptions` tunes the proxy (e.g. a short `commandTimeoutMs` for a test that freezes Redis).
 */
export async function startTestStack(proxyOptions: Partial<ProxyOptions> = {}): Promise<TestStack> {
  const redis = await startRedisServer();
  const restToken = randomBytes(16).toString("hex");
  const proxy = createProxy({ ...proxyOptions, redisUrl: redis.url, token: restToken });
  let address: { url: string };
  try {
    address = await proxy.listen({ host: "127.0.0.1", port: 0 });
  } catch (error) {
    await redis.stop();
    throw error;
  }
  return {
    redisUrl: redis.url,
    restUrl: address.url,
    restToken,
    redis,
    async stop() {
      await proxy.close();
      await redis.stop();
    },
  };
}
