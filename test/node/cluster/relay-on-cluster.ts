import type { RedisClusterOptions } from "../../../src/cli/redis-cluster.ts";
import { type NodeRelay, startNodeRelay } from "../../../src/entry/node.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { type ProxyProcess, startProxyProcess } from "../../helpers/proxy-process.ts";
import { type RedisCluster, startRedisCluster } from "../../helpers/redis-cluster.ts";

export interface RelayOnCluster {
  cluster: RedisCluster;
  /** The proxy in its own process, seeded with the cluster's first node (a primary). */
  proxy: ProxyProcess;
  /** The relay's Node entry on a free loopback port, heartbeats every second. */
  relay: NodeRelay;
  /** Stops the relay, the proxy and every node, by PID. Idempotent. */
  stop(): Promise<void>;
}

/** A local 3-primary cluster (tuned by `clusterOptions`), the proxy in front of it and the Node relay. */
export async function startRelayOnCluster(
  clusterOptions: RedisClusterOptions,
  proxyArgs: string[] = [],
): Promise<RelayOnCluster> {
  const cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 1, ...clusterOptions });
  let proxy: ProxyProcess | undefined;
  let relay: NodeRelay | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await relay?.close();
      await proxy?.stop("SIGKILL");
      await cluster.stop();
    })();
    return stopped;
  };
  try {
    proxy = await startProxyProcess(cluster.url, proxyArgs);
    relay = await startNodeRelay({
      UPSTASH_REDIS_REST_URL: proxy.url,
      UPSTASH_REDIS_REST_TOKEN: proxy.token,
      RELAY_JWT_SECRET: TEST_JWT_SECRET,
      RELAY_HEARTBEAT_MS: "1000",
      HOST: "127.0.0.1",
      PORT: "0",
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { cluster, proxy, relay, stop };
}
