import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { type NodeRelay, startNodeRelay } from "../../../src/entry/node.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { socketTarget } from "./socket-target.ts";
import { allSuites } from "./suites.ts";

/** Every scenario against the Node entry (src/entry/node.ts, @hono/node-server) over a real loopback socket. */
let relay: NodeRelay | undefined;

beforeAll(async () => {
  relay = await startNodeRelay({
    UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
    UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
    RELAY_JWT_SECRET: TEST_JWT_SECRET,
    RELAY_HEARTBEAT_MS: "1000",
    HOST: "127.0.0.1",
    PORT: "0",
  });
});
afterAll(async () => {
  await relay?.close();
});

const target = socketTarget({
  runtime: "node",
  baseUrl: () => {
    if (!relay) throw new Error("the Node relay did not start");
    return relay.url;
  },
  upstashUrl: inject("upstashUrl"),
  upstashToken: inject("upstashToken"),
});

for (const [suite, scenarios] of Object.entries(allSuites)) {
  describe(`node: ${suite}`, () => {
    for (const scenario of scenarios) it(scenario.name, () => scenario.run(target), 90_000);
  });
}
