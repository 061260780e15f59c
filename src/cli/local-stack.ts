import { createServer } from "node:net";
import { join } from "node:path";
import { DEFAULT_SHUTDOWN_MS } from "../relay/config.ts";
import { DEV_SECRET_FILE, devSecret } from "./dev-secret.ts";
import { UnavailableError } from "./exit-codes.ts";
import { freePort } from "./free-port.ts";
import { assertRelayRuntimeAvailable, type RelayProcess, type RelayProcessKind } from "./relay-process.ts";
import { startStack } from "./stack.ts";
import { mintToken } from "./token.ts";

/** Which entry serves the relay: `wrangler dev` (workerd), `deno serve`, or Node. */
export type RelayRuntime = "workers" | "deno" | "node";

export interface LocalStackOptions {
  runtime: RelayRuntime;
  /** Relay port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Use this Redis instead of spawning redis-server. */
  redisUrl?: string;
  /** Spawn a local Redis Cluster with this many primaries (a replica each) instead of one redis-server. */
  redisCluster?: number;
  /** With `redisCluster`: primaries refuse writes while their replica lags (src/cli/redis-cluster.ts). */
  minReplicasToWrite?: number;
  /** The environment the `RELAY_*` settings come from. */
  env: NodeJS.ProcessEnv;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Output of the relay process, line by line (stderr), or undefined to keep it quiet. */
  relayOutput?: (line: string) => void;
  /** How long the relay may take to answer /healthz (default 120 s: wrangler's first build is slow on 2 cores). */
  readyTimeoutMs?: number;
  /** Aborting during start-up stops what already runs and rejects with StartInterrupted. */
  signal?: AbortSignal;
  /** Where the generated dev secret is kept when RELAY_JWT_SECRET is unset (default ./.relay-dev-secret). */
  devSecretFile?: string;
}

/** Start-up was interrupted (Ctrl-C) through `signal`; everything started so far was stopped. */
export class StartInterrupted extends Error {
  override name = "StartInterrupted";
}

export interface LocalStack {
  relayUrl: string;
  proxyUrl: string;
  proxyToken: string;
  redisUrl: string;
  /** An `admin` token for the relay's secret, valid for 24 h. */
  devToken: string;
  /** PIDs of the processes the stack spawned (redis-server when spawned, the relay process). */
  pids: number[];
  /** Resolves when the relay process exits by itself (a crash, or a signal it got directly). */
  relayExited: Promise<number | null>;
  /** Stops everything, relay first, then the proxy, then redis-server. Idempotent. */
  stop(): Promise<void>;
}

const DEV_TOKEN_TTL_S = 24 * 3600;
/** On top of the relay's own bound, before its process group gets SIGKILL (wrangler and workerd do not drain). */
const RELAY_KILL_MARGIN_MS = 2000;
/** The proxy stops after the relay, so no client is left on it: a short grace is plenty. */
const PROXY_SHUTDOWN_GRACE_MS = 1000;
const RELAY_KIND: Record<RelayRuntime, RelayProcessKind> = {
  workers: "workers",
  deno: "deno serve",
  node: "node",
};

/**
 * `relay start`: the shared stack (src/cli/stack.ts) with the proxy in-process, the relay on `runtime` at `port`,
 * the dev secret and an admin token; see docs/local-stack.md.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { log } = options;
  const checkpoint = () => {
    if (options.signal?.aborted)
      throw new StartInterrupted(
        `interrupted (${String(options.signal.reason)}) while starting; stopped what had started`,
      );
  };
  const kind = RELAY_KIND[options.runtime];
  assertRelayRuntimeAvailable(kind);
  const port = options.port === 0 ? await freePort() : options.port;
  await assertPortFree(port);

  let jwtSecret = options.env.RELAY_JWT_SECRET;
  // Called once the proxy is up, so the progress lines keep their order (redis, proxy, auth, relay).
  const settings = async () => {
    if (!jwtSecret) {
      const file = options.devSecretFile ?? join(process.cwd(), DEV_SECRET_FILE);
      const dev = await devSecret(file);
      jwtSecret = dev.secret;
      log(
        dev.created
          ? `auth         RELAY_JWT_SECRET is unset: generated a dev secret and saved it in ${file} (tokens survive restarts; delete the file to rotate it)`
          : `auth         RELAY_JWT_SECRET is unset: using the dev secret saved in ${file}`,
      );
    }
    return { ...relaySettings(options.env), RELAY_JWT_SECRET: jwtSecret };
  };
  const stack = await startStack({
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    ...(options.redisCluster
      ? {
          redisCluster: {
            primaries: options.redisCluster,
            ...(options.minReplicasToWrite ? { minReplicasToWrite: options.minReplicasToWrite } : {}),
          },
        }
      : {}),
    proxy: { options: { shutdownGraceMs: PROXY_SHUTDOWN_GRACE_MS } },
    relay: {
      kind,
      port,
      settings,
      name: "the relay",
      readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
      killAfterMs: relayShutdownMs(options.env) + RELAY_KILL_MARGIN_MS,
      ...(options.relayOutput ? { onLine: options.relayOutput } : {}),
      failure: (message) => new UnavailableError(message),
    },
    log,
    checkpoint,
  });
  const relay = stack.relay as RelayProcess;
  try {
    const devToken = await mintToken({
      secret: stack.relaySettings.RELAY_JWT_SECRET ?? "",
      scope: "admin",
      ttlSeconds: DEV_TOKEN_TTL_S,
      subject: "relay-start",
    });
    return {
      relayUrl: relay.url,
      proxyUrl: stack.proxyUrl,
      proxyToken: stack.proxyToken,
      redisUrl: stack.redisUrl,
      devToken,
      pids: stack.pids(),
      relayExited: relay.exited.then((exit) => exit.code),
      stop: stack.stop,
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/** Every RELAY_* variable of the environment reaches the relay (docs/local-stack.md). */
export function relaySettings(env: NodeJS.ProcessEnv): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith("RELAY_") && value !== undefined && name !== "RELAY_URL" && name !== "RELAY_TOKEN") {
      settings[name] = value;
    }
  }
  return settings;
}

/** RELAY_SHUTDOWN_MS as the relay will read it (a bad value stops the relay at start-up, before this matters). */
function relayShutdownMs(env: NodeJS.ProcessEnv): number {
  const value = env.RELAY_SHUTDOWN_MS?.trim();
  return value && /^\d+$/.test(value) ? Number(value) : DEFAULT_SHUTDOWN_MS;
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", () =>
      reject(
        new UnavailableError(
          `port ${port} on 127.0.0.1 is in use: stop what holds it, or choose another with PORT=<port> (or --port)`,
        ),
      ),
    );
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}
