import { randomBytes } from "node:crypto";
import { createProxy, type ProxyOptions } from "../proxy/index.ts";
import { UnavailableError } from "./exit-codes.ts";
import { type ProxyProcess, startProxyProcess } from "./proxy-process.ts";
import { type RedisCluster, startRedisCluster } from "./redis-cluster.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";
import {
  type RelayProcess,
  type RelayProcessKind,
  type RelayProcessOptions,
  relayLabel,
  startRelayProcess,
} from "./relay-process.ts";

export interface StackOptions {
  /** Use this Redis instead of spawning redis-server. */
  redisUrl?: string;
  /** The spawned redis-server: a fixed port (a restart reuses it), extra arguments (e.g. an AOF). */
  redis?: { port?: number; args?: string[] };
  /** Spawn a local Redis Cluster instead: this many primaries, one replica each unless told (src/cli/redis-cluster.ts). */
  redisCluster?: { primaries: number; replicasPerPrimary?: number; minReplicasToWrite?: number };
  /**
   * The REST proxy: in this process by default (`options` tune it), or `process: true` for its own process (its
   * memory apart from ours, restartable on its port; `args` are more of its flags).
   */
  proxy?:
    | { process?: false; options?: Partial<ProxyOptions> }
    | { process: true; args?: string[]; token?: string };
  /**
   * The relay, when wanted, against the proxy (its URL and token are added to `settings`). `settings` may be a
   * function, called once the proxy is up.
   */
  relay?: Omit<RelayProcessOptions, "settings"> & {
    kind: RelayProcessKind;
    settings: Record<string, string> | (() => Promise<Record<string, string>>);
  };
  /** Progress lines. */
  log?: (line: string) => void;
  /** Called between steps; throwing stops what already runs and rejects with that error. */
  checkpoint?: () => void;
}

/** redis-server, the Upstash-compatible REST proxy and (optionally) the relay, all on 127.0.0.1. */
export interface Stack {
  redisUrl: string;
  /** The spawned redis-server (undefined with `redisUrl` or `redisCluster`). */
  redis?: RedisServer;
  /** The spawned cluster (with `redisCluster`). */
  cluster?: RedisCluster;
  proxyUrl: string;
  proxyToken: string;
  /** The proxy's process (with `proxy.process`). */
  proxyProcess?: ProxyProcess;
  relay?: RelayProcess;
  /** What the relay was started with (its settings plus the proxy's URL and token). */
  relaySettings: Record<string, string>;
  /** PIDs of the processes the stack spawned. */
  pids(): number[];
  /** Registers a cleanup that runs (before the stack's own, in reverse order) when the stack stops. */
  onStop(cleanup: () => Promise<void>): void;
  /** Stops everything it started, the relay first, then the proxy, then redis-server. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The one bootstrap `relay start`, the tests and the benchmarks share (docs/local-stack.md). Every process it
 * spawns is stopped by its PID (process group); a failure part-way stops what had started.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const cleanups: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    })();
    return stopping;
  };
  try {
    return await bringUp(options, cleanups, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function bringUp(
  options: StackOptions,
  cleanups: (() => Promise<void>)[],
  stop: () => Promise<void>,
): Promise<Stack> {
  const log = options.log ?? (() => {});
  const checkpoint = options.checkpoint ?? (() => {});
  const pids: (() => number | undefined)[] = [];

  let redis: RedisServer | undefined;
  let cluster: RedisCluster | undefined;
  let redisUrl = options.redisUrl;
  if (redisUrl) {
    log(`redis        using REDIS_URL ${redactUrl(redisUrl)}`);
  } else if (options.redisCluster) {
    const { primaries, replicasPerPrimary = 1, minReplicasToWrite } = options.redisCluster;
    log(
      `redis        starting a Redis Cluster: ${primaries} primaries, ${replicasPerPrimary} replica(s) each` +
        `${minReplicasToWrite ? `, min-replicas-to-write ${minReplicasToWrite} (max lag 1 s)` : ""}…`,
    );
    try {
      cluster = await startRedisCluster({
        primaries,
        replicasPerPrimary,
        ...(minReplicasToWrite ? { minReplicasToWrite, minReplicasMaxLagS: 1 } : {}),
      });
    } catch (error) {
      throw new UnavailableError(
        `could not start a local Redis Cluster: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const started = cluster;
    cleanups.push(() => started.stop());
    for (const node of started.nodes) pids.push(() => node.pid);
    redisUrl = cluster.url;
    log(
      `redis        cluster ready: ${cluster.nodes.map((node) => node.port).join(", ")} on 127.0.0.1 (the proxy finds every node from ${cluster.url})`,
    );
  } else {
    log("redis        starting redis-server…");
    try {
      redis = await startRedisServer(options.redis ?? {});
    } catch (error) {
      throw new UnavailableError(
        `${error instanceof Error ? error.message : String(error)}\nOr point the stack at a Redis you have: REDIS_URL=redis://host:6379 npm start`,
      );
    }
    const started = redis;
    cleanups.push(() => started.stop());
    pids.push(() => started.pid);
    redisUrl = redis.url;
    log(`redis        ready at ${redis.url} (pid ${redis.pid})`);
  }

  checkpoint();
  log("proxy        starting the Upstash-compatible REST proxy…");
  let proxyUrl: string;
  let proxyToken: string;
  let proxyProcess: ProxyProcess | undefined;
  if (options.proxy?.process) {
    const started = await startProxyProcess(redisUrl, options.proxy.args, options.proxy.token);
    proxyProcess = started;
    cleanups.push(() => started.stop("SIGKILL"));
    pids.push(() => started.pid());
    ({ url: proxyUrl, token: proxyToken } = started);
  } else {
    proxyToken = randomBytes(24).toString("hex");
    const proxy = createProxy({ ...options.proxy?.options, redisUrl, token: proxyToken });
    proxyUrl = (await proxy.listen({ host: "127.0.0.1", port: 0 })).url;
    cleanups.push(() => proxy.close());
  }
  log(`proxy        ready at ${proxyUrl}`);

  let relay: RelayProcess | undefined;
  let relaySettings: Record<string, string> = {};
  if (options.relay) {
    const { kind, settings, ...relayOptions } = options.relay;
    relaySettings = {
      ...(typeof settings === "function" ? await settings() : settings),
      UPSTASH_REDIS_REST_URL: proxyUrl,
      UPSTASH_REDIS_REST_TOKEN: proxyToken,
    };
    checkpoint();
    log(
      `relay        starting ${relayLabel(kind)}${relayOptions.port ? ` on 127.0.0.1:${relayOptions.port}` : ""}…`,
    );
    const started = await startRelayProcess(kind, { ...relayOptions, checkpoint, settings: relaySettings });
    relay = started;
    cleanups.push(async () => {
      await started.stop();
    });
    pids.push(() => started.pid);
    log(`relay        ready at ${started.url} (pid ${started.pid})`);
  }

  return {
    redisUrl,
    ...(redis ? { redis } : {}),
    ...(cluster ? { cluster } : {}),
    proxyUrl,
    proxyToken,
    ...(proxyProcess ? { proxyProcess } : {}),
    ...(relay ? { relay } : {}),
    relaySettings,
    pids: () => pids.map((pid) => pid()).filter((pid): pid is number => pid !== undefined && pid > 0),
    onStop: (cleanup) => cleanups.push(cleanup),
    stop,
  };
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
