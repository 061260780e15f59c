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

/**
 * Brings up a local Redis Cluster on loopback: `primaries` primaries with `replicasPerPrimary`
 * replicas each (`redis-cli --cluster create`), node files in a private temp dir, and waits until
 * every node reports `cluster_state:ok`. Used by the tests and by `relay start --redis-cluster`.
 */
export async function startRedisCluster(
  options: { primaries?: number; replicasPerPrimary?: number; nodeTimeoutMs?: number } = {},
): Promise<RedisCluster> {
  const primaries = options.primaries ?? 3;
  const replicas = options.replicasPerPrimary ?? 1;
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
