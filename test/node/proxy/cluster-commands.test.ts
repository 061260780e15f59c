import { randomBytes } from "node:crypto";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { type ClusterProxy, startClusterProxy } from "./cluster-fixtures.ts";
import { commandScenarios } from "./command-scenarios.ts";

// The proxy's @upstash/redis command suite (command-scenarios.ts) on a real 3-primary Redis Cluster. Each test's
// keys share one hash tag, new per test, so multi-key commands stay in one slot while the tests spread over
// every primary (docs/proxy.md, "Redis Cluster").
let stack: ClusterProxy;
let direct: Cluster;
let tag = "";

beforeAll(async () => {
  stack = await startClusterProxy(3);
  direct = new Cluster([{ host: "127.0.0.1", port: stack.cluster.nodes[0]?.port as number }]);
}, 60_000);
beforeEach(() => {
  tag = randomBytes(4).toString("hex");
});
afterAll(async () => {
  direct?.disconnect();
  await stack?.stop();
});

commandScenarios(() => ({
  url: stack.url,
  token: stack.token,
  direct,
  unique: (prefix) => `{${tag}}${prefix}:${randomBytes(6).toString("hex")}`,
}));
