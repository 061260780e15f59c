import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { startRedisCluster } from "./redis-cluster.ts";

describe("startRedisCluster", () => {
  it("brings up 3 primaries with a replica each covering every slot, and stops every process", async () => {
    const cluster = await startRedisCluster();
    const pids = cluster.nodes.map((node) => node.pid);
    try {
      expect(cluster.nodes).toHaveLength(6);
      const info = execFileSync("redis-cli", ["-p", String(cluster.nodes[0]?.port), "cluster", "info"], {
        encoding: "utf8",
      });
      expect(info).toContain("cluster_state:ok");
      expect(info).toContain("cluster_slots_assigned:16384");
      expect(info).toContain("cluster_size:3");
      const nodes = execFileSync("redis-cli", ["-p", String(cluster.nodes[0]?.port), "cluster", "nodes"], {
        encoding: "utf8",
      });
      expect(nodes.match(/slave/g)).toHaveLength(3);
    } finally {
      await cluster.stop();
    }
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
  }, 60_000);

  it("refuses min-replicas-to-write above the replicas per primary before starting anything (no write could succeed)", async () => {
    await expect(startRedisCluster({ replicasPerPrimary: 1, minReplicasToWrite: 2 })).rejects.toThrow(
      /min-replicas-to-write 2 needs as many replicas per primary \(have 1\)/,
    );
  });
});
