/** One cluster node to start discovery from. */
export interface SeedNode {
  host: string;
  port: number;
}

/**
 * Parses cluster seed nodes given as `host:port` (IPv6 as `[::1]:7000`), from `--redis-cluster-nodes` /
 * `REDIS_CLUSTER_NODES` (docs/proxy.md, "Redis Cluster"). Throws a message naming the bad entry.
 */
export function parseSeedNodes(entries: string[]): SeedNode[] {
  return entries.map((entry) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s/]+)):(\d{1,5})$/.exec(entry.trim());
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65535)
      throw new Error(
        `a cluster seed node must be host:port (IPv6 as [::1]:7000), got ${JSON.stringify(entry)}`,
      );
    return { host: (match[1] ?? match[2]) as string, port };
  });
}
