import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { startRedisServer } from "../../src/cli/redis-server.ts";
import { mintToken } from "../../src/cli/token.ts";
import { firstJsonLine, stopChild } from "./child-process.ts";

const PROXY_CHILD = join(import.meta.dirname, "proxy-child.ts");

/** Scope of the benchmark's token: auth stays on, and scope globs are matched on every request. */
export const BENCH_SCOPE = "publish:bench.* subscribe:bench.*";

/** What every relay under test shares: redis-server, the REST proxy (own process) and the run's token. */
export interface RelayBenchStack {
  redisUrl: string;
  redisPid: number;
  proxyUrl: string;
  /** The proxy's own bearer token (for the round trip straight to the proxy and its subscribe tap). */
  proxyToken: string;
  proxyPid: number;
  /** Secrets every relay gets: the proxy's URL and token, and the JWT secret. */
  relaySecrets: Record<string, string>;
  /** `Authorization` header value for a token with `BENCH_SCOPE`. */
  authorization: string;
  /** Registers a cleanup that runs (in reverse order) when the stack stops. */
  onStop(cleanup: () => Promise<void>): void;
  stop(): Promise<void>;
}

/** Node 22.12+ is what wrangler needs; `npm run bench` provides it through node_modules/.bin/node. */
function assertNodeVersion() {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    throw new Error(
      `the relay benchmark needs Node >= 22.12 for wrangler, this is ${process.version}: run it with \`npm run bench\``,
    );
  }
}

export async function startRelayBenchStack(): Promise<RelayBenchStack> {
  assertNodeVersion();
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  };
  try {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());

    const proxyToken = randomBytes(16).toString("hex");
    const proxy = spawn(process.execPath, ["--no-warnings", PROXY_CHILD], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, BENCH_REDIS_URL: redis.url, BENCH_PROXY_TOKEN: proxyToken },
    });
    cleanups.push(() => stopChild(proxy, 5000));
    const { url: proxyUrl } = await firstJsonLine<{ url: string }>(proxy, "the REST proxy", 30_000);

    const secret = randomBytes(32).toString("hex");
    const token = await mintToken({ secret, scope: BENCH_SCOPE, ttlSeconds: 3600, subject: "relay-bench" });
    return {
      redisUrl: redis.url,
      redisPid: redis.pid,
      proxyUrl,
      proxyToken,
      proxyPid: proxy.pid ?? 0,
      relaySecrets: {
        UPSTASH_REDIS_REST_URL: proxyUrl,
        UPSTASH_REDIS_REST_TOKEN: proxyToken,
        RELAY_JWT_SECRET: secret,
      },
      authorization: `Bearer ${token}`,
      onStop: (cleanup) => cleanups.push(cleanup),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
