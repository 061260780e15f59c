import { randomBytes } from "node:crypto";
import { Redis, type RedisConfigNodejs } from "@upstash/redis";
import { Redis as TcpRedis } from "ioredis";
import { inject } from "vitest";
import { createProxy, type ProxyOptions, type Proxy as RestProxy } from "../../../src/proxy/index.ts";
import { type RedisServer, startRedisServer } from "../../helpers/redis-server.ts";

/** The global stack's proxy (see test/helpers/global-setup.ts). */
export function sharedProxy(): { url: string; token: string; redisUrl: string } {
  return { url: inject("upstashUrl"), token: inject("upstashToken"), redisUrl: inject("redisUrl") };
}

/** An unmodified @upstash/redis client for the shared proxy; no retries, so failures show at once. */
export function upstashClient(config: Partial<RedisConfigNodejs> = {}): Redis {
  const { url, token } = sharedProxy();
  return new Redis({ url, token, retry: false, enableTelemetry: false, ...config });
}

/** A plain TCP client on the same Redis, to check what the proxy did from the outside. */
export function tcpClient(redisUrl = sharedProxy().redisUrl): TcpRedis {
  return new TcpRedis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
}

/** A key or channel name no other test uses. */
export function unique(prefix: string): string {
  return `${prefix}:${randomBytes(6).toString("hex")}`;
}

/** fetch against the shared proxy with its token. */
export function proxyFetch(
  path: string,
  init: RequestInit & { token?: string | null } = {},
): Promise<Response> {
  const { url, token } = sharedProxy();
  const headers = new Headers(init.headers);
  const useToken = init.token === undefined ? token : init.token;
  if (useToken !== null && !headers.has("authorization")) headers.set("authorization", `Bearer ${useToken}`);
  return fetch(`${url}${path}`, { ...init, headers });
}

/** POSTs a JSON body (or raw text) to the shared proxy. */
export function postJson(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return proxyFetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export interface PrivateProxy {
  url: string;
  redis: RedisServer;
  proxy: RestProxy;
  stop(): Promise<void>;
}

/** A private redis-server plus a proxy with custom options (for tokens, timeouts, outages). */
export async function startPrivateProxy(
  options: Omit<ProxyOptions, "redisUrl"> & { redisUrl?: string },
): Promise<PrivateProxy> {
  const redis = await startRedisServer();
  const proxy = createProxy({ log: () => {}, ...options, redisUrl: options.redisUrl ?? redis.url });
  const { url } = await proxy.listen({ host: "127.0.0.1", port: 0 });
  const stack: PrivateProxy = {
    url,
    redis,
    proxy,
    // Reads the fields at stop time: a test may replace the Redis (restart) or the proxy.
    async stop() {
      await stack.proxy.close();
      await stack.redis.stop();
    },
  };
  return stack;
}

/** Waits until `check` passes (polling), or fails with its last error after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }
}
