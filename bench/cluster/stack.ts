/**
 * The cluster benchmark's stack (docs/benchmarks.md, "Redis Cluster"): one single redis-server and one local
 * Redis Cluster started in the same run, each behind its own REST proxy (own process) and, on request, its own
 * relay on Node. Both backends get the same proxy token and JWT secret, so every measurement differs only in
 * what sits behind the proxy. Composed from the existing helpers (bench/relay/*), which it does not change.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { startRedisCluster } from "../../src/cli/redis-cluster.ts";
import { startRedisServer } from "../../src/cli/redis-server.ts";
import { mintToken } from "../../src/cli/token.ts";
import { firstJsonLine, stopChild } from "../relay/child-process.ts";
import { startRelayProcess } from "../relay/relay-process.ts";
import { BENCH_SCOPE } from "../relay/stack.ts";

const PROXY_CHILD = join(import.meta.dirname, "../relay/proxy-child.ts");

/** Every node of a backend, primaries first: what the benchmark reads CPU time from (replicas work too). */
export function allNodes(backend: Backend): BenchNode[] {
  return [...backend.primaries, ...backend.replicas];
}

/** One Redis node the benchmark reads CPU time from. */
export interface BenchNode {
  url: string;
  port: number;
  pid: number;
}

/** What one backend (single Redis or the cluster) looks like to the benchmark. */
export interface Backend {
  label: "single Redis" | "cluster";
  /** `redis://` of one node: the proxy's --redis, and a seed for cluster-aware clients. */
  redisUrl: string;
  /** The primaries (the single Redis is its own one primary). */
  primaries: BenchNode[];
  /** Replicas (cluster only; empty unless asked for). */
  replicas: BenchNode[];
  proxyUrl: string;
  proxyPid: number;
  /** The relay on Node against this backend's proxy, when the stack was started with `relay: true`. */
  relay?: { url: string; pid: number };
}

export interface ClusterBenchStack {
  single: Backend;
  cluster: Backend;
  proxyToken: string;
  /** `Authorization` header value of a relay token with the bench scope (`publish:bench.* subscribe:bench.*`). */
  authorization: string;
  stop(): Promise<void>;
}

export async function startClusterBenchStack(options: {
  primaries: number;
  replicasPerPrimary: number;
  relay: boolean;
}): Promise<ClusterBenchStack> {
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  };
  try {
    const proxyToken = randomBytes(16).toString("hex");
    const secret = randomBytes(32).toString("hex");
    const token = await mintToken({ secret, scope: BENCH_SCOPE, ttlSeconds: 3600, subject: "cluster-bench" });

    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const cluster = await startRedisCluster({
      primaries: options.primaries,
      replicasPerPrimary: options.replicasPerPrimary,
    });
    cleanups.push(() => cluster.stop());

    const backend = async (
      label: Backend["label"],
      redisUrl: string,
      primaries: BenchNode[],
      replicas: BenchNode[],
    ): Promise<Backend> => {
      const proxy = startProxy(redisUrl, proxyToken);
      cleanups.push(() => stopChild(proxy, 5000));
      const { url: proxyUrl } = await firstJsonLine<{ url: string }>(
        proxy,
        `the REST proxy (${label})`,
        30_000,
      );
      const result: Backend = { label, redisUrl, primaries, replicas, proxyUrl, proxyPid: proxy.pid ?? 0 };
      if (options.relay) {
        const relay = await startRelayProcess("node", {
          UPSTASH_REDIS_REST_URL: proxyUrl,
          UPSTASH_REDIS_REST_TOKEN: proxyToken,
          RELAY_JWT_SECRET: secret,
        });
        cleanups.push(() => relay.stop());
        result.relay = { url: relay.url, pid: relay.pid };
      }
      return result;
    };
    const nodes = cluster.nodes.map(({ url, port, pid }) => ({ url, port, pid }));
    return {
      single: await backend(
        "single Redis",
        redis.url,
        [{ url: redis.url, port: redis.port, pid: redis.pid }],
        [],
      ),
      cluster: await backend(
        "cluster",
        cluster.url,
        nodes.slice(0, options.primaries),
        nodes.slice(options.primaries),
      ),
      proxyToken,
      authorization: `Bearer ${token}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function startProxy(redisUrl: string, token: string): ChildProcess {
  return spawn(process.execPath, ["--no-warnings", "--experimental-strip-types", PROXY_CHILD], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, BENCH_REDIS_URL: redisUrl, BENCH_PROXY_TOKEN: token },
  });
}
