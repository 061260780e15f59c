import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

const run = promisify(execFile);

export interface RedisCluster {
  /** Every node, primaries first as created (redis-cli assigns the first `primaries` nodes as primaries). */
  nodes: RedisServer[];
  /** `redis://127.0.0.1:<port>` of one node: enough for a cluster-aware client to discover the rest. */
  url: string;
  /** Stops every node by its PID and removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  primaries?: number;
  replicasPerPrimary?: number;
  nodeTimeoutMs?: number;
  /**
   * `min-replicas-to-write` on every node (a promoted replica keeps it): a primary refuses writes with
   * `NOREPLICAS` while fewer replicas than this acknowledged within `minReplicasMaxLagS` (docs/data-model.md,
   * "What failover can lose"). At most `replicasPerPrimary`.
   */
  minReplicasToWrite?: number;
  /** `min-replicas-max-lag` in seconds, with `minReplicasToWrite` (default 1). */
  minReplicasMaxLagS?: number;
}

/**
 * Brings up a local Redis Cluster on loopback: `primaries` primaries with `replicasPerPrimary`
 * replicas each (`redis-cli --cluster create`), node files in a private temp dir, and waits until
 * every node reports `cluster_state:ok` (and, with `minReplicasToWrite`, every primary has that many good
 * replicas, so it takes writes). Used by the tests and by `relay start --redis-cluster`.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const primaries = options.primaries ?? 3;
  const replicas = options.replicasPerPrimary ?? 1;
  const minReplicas = options.minReplicasToWrite ?? 0;
  if (minReplicas > replicas)
    throw new Error(
      `min-replicas-to-write ${minReplicas} needs as many replicas per primary (have ${replicas}): no write would succeed`,
    );
  const minReplicasArgs =
    minReplicas > 0
      ? [
          "--min-replicas-to-write",
          String(minReplicas),
          "--min-replicas-max-lag",
          String(options.minReplicasMaxLagS ?? 1),
        ]
      : [];
  const dir = await mkdtemp(join(tmpdir(), "relay-cluster-"));
  const nodes: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < primaries * (1 + replicas); i++) {
      const port = await clusterPort();
      nodes.push(
        await startRedisServer({
          port,
          args: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            join(dir, `nodes-${port}.conf`),
            "--cluster-node-timeout",
            String(options.nodeTimeoutMs ?? 2000),
            "--dir",
            dir,
            ...minReplicasArgs,
          ],
        }),
      );
    }
    await run(redisCli(), [
      "--cluster",
      "create",
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      "--cluster-replicas",
      String(replicas),
      "--cluster-yes",
    ]);
    await waitForClusterOk(nodes, primaries * replicas);
    if (minReplicas > 0) await waitForGoodReplicas(nodes, minReplicas);
  } catch (error) {
    await stop();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    nodes,
    url: nodes[0]?.url ?? "",
    stop() {
      stopped ??= stop();
      return stopped;
    },
  };
}

function redisCli(): string {
  return process.env.REDIS_CLI_BIN ?? "redis-cli";
}

/** A free port whose cluster bus port (port + 10000) is free as well. */
async function clusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 > 65_535) continue;
    if (await isFree(port + 10_000)) return port;
  }
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Every node reports `cluster_state:ok` and sees every replica (they are announced over the bus, not at once). */
async function waitForClusterOk(nodes: RedisServer[], replicas: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(
      nodes.map(async (node) => {
        const port = String(node.port);
        const { stdout: info } = await run(redisCli(), ["-p", port, "cluster", "info"]);
        const { stdout: known } = await run(redisCli(), ["-p", port, "cluster", "nodes"]);
        return info.includes("cluster_state:ok") && (known.match(/slave/g) ?? []).length === replicas;
      }),
    );
    if (states.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`cluster not ok after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Every primary counts `minReplicas` good replicas (`min_slaves_good_slaves` in INFO replication): a replica is
 * announced before its first acknowledgement, and until then its primary refuses writes with NOREPLICAS.
 */
async function waitForGoodReplicas(
  nodes: RedisServer[],
  minReplicas: number,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await Promise.all(
      nodes.map(async (node) => {
        const { stdout } = await run(redisCli(), ["-p", String(node.port), "info", "replication"]);
        if (!stdout.includes("role:master")) return true;
        return Number(/min_slaves_good_slaves:(\d+)/.exec(stdout)?.[1] ?? 0) >= minReplicas;
      }),
    );
    if (ready.every(Boolean)) return;
    if (Date.now() > deadline)
      throw new Error(`primaries lack ${minReplicas} good replica(s) after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
