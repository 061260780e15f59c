/**
 * The cluster benchmark's stack (docs/benchmarks.md, "Redis Cluster"): one single redis-server and one local
 * Redis Cluster started in the same run, each behind its own REST proxy (own process) and, on request, its own
 * relay on Node. Both backends get the same proxy token and JWT secret, so every measurement differs only in
 * what sits behind the proxy. Both come from the shared bootstrap (src/cli/stack.ts).
 */
import { randomBytes } from "node:crypto";
import type { RedisServer } from "../../src/cli/redis-server.ts";
import { type Stack, type StackOptions, startStack } from "../../src/cli/stack.ts";
import { mintToken } from "../../src/cli/token.ts";
import { BENCH_SCOPE } from "../relay/stack.ts";

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
  const stacks: Stack[] = [];
  const stop = async () => {
    for (const stack of stacks.splice(0).reverse()) await stack.stop().catch(() => {});
  };
  try {
    const proxyToken = randomBytes(16).toString("hex");
    const secret = randomBytes(32).toString("hex");
    const token = await mintToken({ secret, scope: BENCH_SCOPE, ttlSeconds: 3600, subject: "cluster-bench" });
    // The shared bootstrap (src/cli/stack.ts), twice: each backend with its proxy in its own process (its CPU is
    // measured apart) and, when asked, a relay on Node.
    const start = async (redisCluster?: StackOptions["redisCluster"]) => {
      const stack = await startStack({
        ...(redisCluster ? { redisCluster } : {}),
        proxy: { process: true, token: proxyToken },
        ...(options.relay
          ? { relay: { kind: "node" as const, settings: { RELAY_JWT_SECRET: secret } } }
          : {}),
      });
      stacks.push(stack);
      return stack;
    };
    const single = await start();
    const clustered = await start({
      primaries: options.primaries,
      replicasPerPrimary: options.replicasPerPrimary,
    });
    const backend = (
      label: Backend["label"],
      stack: Stack,
      primaries: BenchNode[],
      replicas: BenchNode[],
    ) => {
      const result: Backend = {
        label,
        redisUrl: stack.redisUrl,
        primaries,
        replicas,
        proxyUrl: stack.proxyUrl,
        proxyPid: stack.proxyProcess?.pid() ?? 0,
      };
      if (stack.relay) result.relay = { url: stack.relay.url, pid: stack.relay.pid };
      return result;
    };
    const redis = single.redis as RedisServer;
    const nodes = (clustered.cluster?.nodes ?? []).map(({ url, port, pid }) => ({ url, port, pid }));
    return {
      single: backend("single Redis", single, [{ url: redis.url, port: redis.port, pid: redis.pid }], []),
      cluster: backend(
        "cluster",
        clustered,
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
