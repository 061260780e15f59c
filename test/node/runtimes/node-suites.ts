import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { type NodeRelay, startNodeRelay } from "../../../src/entry/node.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { socketTarget } from "./socket-target.ts";
import { allSuites } from "./suites.ts";

/** Registers every scenario against the Node entry over a real loopback socket, with or without the hub. */
export function nodeScenarios(label: string, hub: boolean): void {
  let relay: NodeRelay | undefined;

  beforeAll(async () => {
    relay = await startNodeRelay({
      UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
      UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
      RELAY_JWT_SECRET: TEST_JWT_SECRET,
      RELAY_HEARTBEAT_MS: "1000",
      RELAY_HUB: hub ? "on" : "off",
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
    hub,
  });

  for (const [suite, scenarios] of Object.entries(allSuites)) {
    describe(`${label}: ${suite}`, () => {
      for (const scenario of scenarios) it(scenario.name, () => scenario.run(target), 90_000);
    });
  }
}
