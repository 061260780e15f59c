import { Cluster, type RedisOptions } from "ioredis";
import type { ConnectionSettings } from "../redis-connection.ts";
import type { SeedNode } from "./seed-list.ts";

/** True when an `INFO cluster` reply says the node runs in cluster mode (`cluster_enabled:1`). */
export function isClusterInfo(reply: unknown): boolean {
  const text = Buffer.isBuffer(reply) ? reply.toString() : typeof reply === "string" ? reply : "";
  return /^cluster_enabled:1\s*$/m.test(text);
}

/**
 * An ioredis Cluster seeded with one node's URL (plus any further seed nodes: discovery needs one of them
 * alive), set up like the single-node connection (docs/proxy.md, "Redis Cluster"): RESP2, integers as text,
 * no offline queue, no resending; ioredis routes each command by its key's slot and follows MOVED/ASK
 * redirections. The URL's user, password and TLS apply to every node.
 */
export function openClusterConnection(
  seedUrl: string,
  settings: ConnectionSettings,
  moreSeeds: SeedNode[] = [],
): Cluster {
  const seed = new URL(seedUrl);
  const redisOptions: RedisOptions = {
    protocol: 2,
    stringNumbers: true,
    commandTimeout: settings.commandTimeoutMs,
    connectionName: settings.connectionName,
    disableClientInfo: true,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
    ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
    ...(seed.protocol === "rediss:" ? { tls: {} } : {}),
  };
  const urlSeed = { host: seed.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(seed.port || 6379) };
  const seeds = [...moreSeeds];
  if (!seeds.some((node) => node.host === urlSeed.host && node.port === urlSeed.port)) seeds.push(urlSeed);
  const cluster = new Cluster(seeds, {
    redisOptions,
    enableOfflineQueue: false,
    enableAutoPipelining: false,
    lazyConnect: true,
    clusterRetryStrategy: (attempt) =>
      Math.min(50 * 2 ** attempt, settings.maxReconnectDelayMs) + Math.random() * 50,
  });
  // Failures surface as rejected commands (503 or 504); without a listener ioredis would print each one.
  cluster.on("error", () => {});
  return cluster;
}
