import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keySlot } from "../../../src/protocol/key-slot.ts";
import { kvKeys } from "../../../src/relay/redis/keys.ts";
import { KV_SCRIPT_SOURCES } from "../../../src/relay/redis/kv.ts";
import { type RedisCluster, startRedisCluster } from "../../helpers/redis-cluster.ts";
import { BRACE_KEYS } from "../../scenarios/brace-keys.ts";

const EXAMPLE_DIR = join(import.meta.dirname, "../../../examples/python");

/**
 * The KV key layout on a real Redis Cluster (3 primaries): the relay's slot function agrees with Redis's
 * `CLUSTER KEYSLOT`, and the KV scripts, which touch a key and its meta hash together, run without CROSSSLOT for
 * keys of any shape; redis-py's RedisCluster finds the same meta hash by the documented rule
 * (examples/python/relay_ipc.py `meta_key`).
 */
describe("KV keys on Redis Cluster", () => {
  let cluster: RedisCluster;
  let node: Redis;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 0 });
    const first = cluster.nodes[0] as { port: number };
    node = new Redis({ host: "127.0.0.1", port: first.port });
    client = new Cluster([{ host: "127.0.0.1", port: first.port }]);
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    node?.disconnect();
    await cluster?.stop();
  });

  it("keySlot agrees with CLUSTER KEYSLOT for brace keys and random keys", async () => {
    const random = Array.from({ length: 300 }, (_, i) =>
      Array.from({ length: 1 + (i % 12) }, () => "ab{}:é🙂x"[Math.floor(Math.random() * 9)]).join(""),
    );
    for (const key of [...BRACE_KEYS, ...random]) {
      const slot = Number(await node.call("CLUSTER", "KEYSLOT", key));
      if (slot !== keySlot(key))
        throw new Error(`${JSON.stringify(key)}: Redis says ${slot}, keySlot ${keySlot(key)}`);
    }
  });

  it("put and get run on every brace key without CROSSSLOT and keep the content type in the meta hash", async () => {
    const slots = new Set<number>();
    for (const key of BRACE_KEYS) {
      const { value, meta } = kvKeys("", key);
      slots.add(keySlot(value));
      const put = (await client.eval(
        KV_SCRIPT_SOURCES.put,
        2,
        value,
        meta,
        `v:${key}`,
        "text/csv",
        "60",
        "",
        "",
      )) as [string, string];
      expect(put[0]).toBe("created");
      const got = (await client.eval(KV_SCRIPT_SOURCES.get, 2, value, meta)) as string[];
      expect(got).toEqual(["ok", `v:${key}`, put[1], "text/csv"]);
      expect(await client.ttl(meta)).toBeGreaterThan(0);
    }
    // The keys spread over more than one node's slot range, so routing was exercised.
    expect(slots.size).toBeGreaterThan(3);
  });

  it("redis-py's RedisCluster reads each key's meta hash through the documented rule", () => {
    const script = [
      "import json, sys",
      `sys.path.insert(0, ${JSON.stringify(EXAMPLE_DIR)})`,
      "from relay_ipc import meta_key",
      "from redis.cluster import RedisCluster",
      `r = RedisCluster(host="127.0.0.1", port=${(cluster.nodes[0] as { port: number }).port})`,
      "out = {}",
      "for key in json.load(sys.stdin):",
      "    name = meta_key(key)",
      "    out[key] = [name, (r.hget(name, 'type') or b'').decode()]",
      "print(json.dumps(out))",
    ].join("\n");
    const python = spawnSync("/usr/bin/python3", ["-c", script], {
      input: JSON.stringify(BRACE_KEYS),
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(python.stderr).toBe("");
    const seen = JSON.parse(python.stdout) as Record<string, [string, string]>;
    for (const key of BRACE_KEYS) expect(seen[key]).toEqual([kvKeys("", key).meta, "text/csv"]);
  });
});
