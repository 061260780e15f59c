import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { startRelayProcess } from "../../../src/cli/relay-process.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import type { Scenario } from "../../scenarios/harness.ts";
import { socketTarget } from "./socket-target.ts";

/**
 * The Worker as `wrangler dev` runs it (the shared starter `relay start --runtime workers` uses, src/cli/
 * relay-process.ts: wrangler.toml and its Durable Object binding), on a loopback port. Client disconnects reach
 * workerd only at its next write (a heartbeat), so heartbeats are short here.
 */
export interface WranglerDev {
  url: string;
  stop(): Promise<void>;
}

export async function startWranglerDev(
  upstash: { url: string; token: string },
  vars: Record<string, string> = {},
): Promise<WranglerDev> {
  const worker = await startRelayProcess("workers", {
    settings: {
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      RELAY_JWT_SECRET: TEST_JWT_SECRET,
      RELAY_HEARTBEAT_MS: "1000",
      ...vars,
    },
    logLevel: "error",
  });
  return {
    url: worker.url,
    async stop() {
      await worker.stop();
    },
  };
}

/**
 * Runs `suites` against the Worker under `wrangler dev` with `vars` (on the project's proxy), over real sockets
 * with Node's fetch: what a browser sees, client disconnects included. `hub`: the Durable Object path is on.
 */
export function wranglerDevScenarios(
  label: string,
  options: { vars?: Record<string, string>; hub: boolean; suites: Record<string, Scenario[]> },
): void {
  let worker: WranglerDev | undefined;
  beforeAll(async () => {
    worker = await startWranglerDev(
      { url: inject("upstashUrl"), token: inject("upstashToken") },
      options.vars,
    );
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
  });
  const target = socketTarget({
    runtime: "miniflare-socket",
    baseUrl: () => {
      if (!worker) throw new Error("the worker did not start");
      return worker.url;
    },
    upstashUrl: inject("upstashUrl"),
    upstashToken: inject("upstashToken"),
    hub: options.hub,
  });
  for (const [suite, scenarios] of Object.entries(options.suites)) {
    describe(`${label}: ${suite}`, () => {
      for (const scenario of scenarios) it(scenario.name, () => scenario.run(target), 90_000);
    });
  }
}
