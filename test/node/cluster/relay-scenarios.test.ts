import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeRelay, startNodeRelay } from "../../../src/entry/node.ts";
import { keySlot } from "../../../src/protocol/key-slot.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { startProxyProcess } from "../../helpers/proxy-process.ts";
import { startRedisCluster } from "../../helpers/redis-cluster.ts";
import { kvScenarios } from "../../scenarios/kv.ts";
import { longPollScenarios, longPollSocketScenarios } from "../../scenarios/longpoll.ts";
import { publishScenarios } from "../../scenarios/publish.ts";
import { sseScenarios, sseSocketScenarios } from "../../scenarios/sse.ts";
import { token, unique } from "../client/fixture.ts";
import { openSse, until } from "../relay/sse-reader.ts";
import { socketTarget } from "../runtimes/socket-target.ts";
import { startWranglerDev, type WranglerDev } from "../runtimes/wrangler-dev.ts";

/**
 * The relay's scenarios on a real Redis Cluster (3 primaries, a replica each) through the project's proxy, which
 * is given one node and finds the rest: on the Node entry with the hub and in workerd under `wrangler dev` with
 * the Durable Object path. Scenario names are random, so their channels and keys spread over every primary
 * (checked at the end). The publish suite's batch scenarios are left out: on a cluster a batch over several
 * channels is refused with `cross_slot` by design (docs/api.md; test/node/cluster/batch-cross-slot.test.ts), and
 * the SSE scenarios publish to several channels one by one there (`cluster` on the target).
 */
const cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 1 });
const proxy = await startProxyProcess(cluster.url);

const ACROSS_CHANNELS = /batch/;
const suites = {
  kv: kvScenarios,
  publish: publishScenarios.filter((scenario) => !ACROSS_CHANNELS.test(scenario.name)),
  sse: [...sseScenarios, ...sseSocketScenarios],
  "long-poll": [...longPollScenarios, ...longPollSocketScenarios],
};

const settings = {
  UPSTASH_REDIS_REST_URL: proxy.url,
  UPSTASH_REDIS_REST_TOKEN: proxy.token,
  RELAY_JWT_SECRET: TEST_JWT_SECRET,
  RELAY_HEARTBEAT_MS: "1000",
};

let nodeRelay: NodeRelay | undefined;
let secondRelay: NodeRelay | undefined;
let worker: WranglerDev | undefined;

beforeAll(async () => {
  nodeRelay = await startNodeRelay({ ...settings, HOST: "127.0.0.1", PORT: "0" });
  secondRelay = await startNodeRelay({ ...settings, HOST: "127.0.0.1", PORT: "0" });
  worker = await startWranglerDev({ url: proxy.url, token: proxy.token });
}, 180_000);
afterAll(async () => {
  await nodeRelay?.close();
  await secondRelay?.close();
  await worker?.stop();
  await proxy.stop("SIGKILL");
  await cluster.stop();
});

const targets = {
  "node on a cluster": socketTarget({
    runtime: "node",
    baseUrl: () => nodeRelay?.url ?? "",
    upstashUrl: proxy.url,
    upstashToken: proxy.token,
    hub: true,
    cluster: true,
  }),
  "workerd (wrangler dev) on a cluster": socketTarget({
    runtime: "miniflare-socket",
    baseUrl: () => worker?.url ?? "",
    upstashUrl: proxy.url,
    upstashToken: proxy.token,
    hub: true,
    cluster: true,
  }),
};

for (const [label, target] of Object.entries(targets)) {
  for (const [suite, scenarios] of Object.entries(suites)) {
    describe(`${label}: ${suite}`, () => {
      for (const scenario of scenarios) it(scenario.name, () => scenario.run(target), 90_000);
    });
  }
}

describe("two relays on one cluster", () => {
  it("a stream on one relay gets, in order, what is published through the other, on channels of every primary", async () => {
    const admin = await token("admin");
    const channels: string[] = [];
    for (let i = 0; channels.length < 3; i++) {
      const name = unique(`two${i}`);
      if (Math.floor(keySlot(name) / (16384 / 3)) === channels.length) channels.push(name);
    }
    for (const channel of channels) {
      const stream = await openSse(`${nodeRelay?.url}/v1/channels/${channel}/events`, admin);
      try {
        const sent: string[] = [];
        for (let n = 0; n < 20; n++) {
          const response = await fetch(`${secondRelay?.url}/v1/channels/${channel}/messages`, {
            method: "POST",
            headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
            body: JSON.stringify({ n }),
          });
          expect(response.status).toBe(201);
          sent.push(((await response.json()) as { id: string }).id);
        }
        await until(() => stream.events.length >= 20, `20 messages on ${channel}`);
        expect(stream.events.map((event) => event.id)).toEqual(sent);
      } finally {
        stream.close();
      }
    }
  });
});

describe("the scenarios' data", () => {
  it("lies on every primary of the cluster", () => {
    const primaries = cluster.nodes.filter((node) =>
      execFileSync("redis-cli", ["-p", String(node.port), "ROLE"], { encoding: "utf8" }).startsWith("master"),
    );
    expect(primaries).toHaveLength(3);
    for (const node of primaries) {
      const keys = Number(
        execFileSync("redis-cli", ["-p", String(node.port), "DBSIZE"], { encoding: "utf8" }),
      );
      expect(keys, `keys on primary ${node.port}`).toBeGreaterThan(10);
    }
  });
});
