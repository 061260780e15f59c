import { Redis as TcpRedis } from "ioredis";
import { createProxy, type ProxyOptions, type Proxy as RestProxy } from "../../../src/proxy/index.ts";
import { type RedisCluster, startRedisCluster } from "../../helpers/redis-cluster.ts";

export interface ClusterProxy {
  url: string;
  token: string;
  cluster: RedisCluster;
  proxy: RestProxy;
  /** Plain TCP connections to each primary, in `cluster.nodes` order. */
  primaries: TcpRedis[];
  /** A key (with `prefix`) whose slot each primary owns, one per primary in `primaries` order. */
  keysOnEachPrimary(prefix: string): Promise<string[]>;
  /** Index in `primaries` of the primary owning the key's slot (as Redis's CLUSTER KEYSLOT computes it). */
  primaryOf(key: string): Promise<number>;
  stop(): Promise<void>;
}

/** A real local Redis Cluster (no replicas) with the proxy in front of it, seeded with ONE node's URL. */
export async function startClusterProxy(
  primaryCount = 3,
  options: Partial<ProxyOptions> = {},
): Promise<ClusterProxy> {
  const cluster = await startRedisCluster({ primaries: primaryCount, replicasPerPrimary: 0 });
  const token = "cluster-test-token";
  const proxy = createProxy({ log: () => {}, redisUrl: cluster.url, token, ...options });
  const { url } = await proxy.listen({ host: "127.0.0.1", port: 0 });
  const primaries = cluster.nodes.slice(0, primaryCount).map((node) => new TcpRedis(node.url));
  const ownerPorts = await slotOwners(primaries[0] as TcpRedis);
  const primaryOf = async (key: string) => {
    const slot = Number(await primaries[0]?.call("CLUSTER", "KEYSLOT", key));
    return cluster.nodes.findIndex((node) => node.port === ownerPorts(slot));
  };
  return {
    url,
    token,
    cluster,
    proxy,
    primaries,
    primaryOf,
    async keysOnEachPrimary(prefix) {
      const found: string[] = [];
      for (let index = 0; index < primaryCount; index++) {
        for (let i = 0; ; i++) {
          const key = `${prefix}:${i}`;
          if ((await primaryOf(key)) === index) {
            found.push(key);
            break;
          }
        }
      }
      return found;
    },
    async stop() {
      await proxy.close();
      for (const connection of primaries) connection.disconnect();
      await cluster.stop();
    },
  };
}

/** slot → port of the primary that owns it, from `CLUSTER SLOTS`. */
async function slotOwners(node: TcpRedis): Promise<(slot: number) => number | undefined> {
  const ranges = (await node.call("CLUSTER", "SLOTS")) as [number, number, [string, number]][];
  return (slot) => ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
}
