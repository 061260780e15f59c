import { randomBytes } from "node:crypto";
import { startStack } from "../../src/cli/stack.ts";
import { mintToken } from "../../src/cli/token.ts";

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

/** The shared bootstrap (src/cli/stack.ts) with the proxy in its own process, so its memory is measured apart. */
export async function startRelayBenchStack(): Promise<RelayBenchStack> {
  assertNodeVersion();
  const stack = await startStack({ proxy: { process: true } });
  try {
    const secret = randomBytes(32).toString("hex");
    const token = await mintToken({ secret, scope: BENCH_SCOPE, ttlSeconds: 3600, subject: "relay-bench" });
    return {
      redisUrl: stack.redisUrl,
      redisPid: stack.redis?.pid ?? 0,
      proxyUrl: stack.proxyUrl,
      proxyToken: stack.proxyToken,
      proxyPid: stack.proxyProcess?.pid() ?? 0,
      relaySecrets: {
        UPSTASH_REDIS_REST_URL: stack.proxyUrl,
        UPSTASH_REDIS_REST_TOKEN: stack.proxyToken,
        RELAY_JWT_SECRET: secret,
      },
      authorization: `Bearer ${token}`,
      onStop: stack.onStop,
      stop: stack.stop,
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}
