import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { unstable_startWorker } from "wrangler";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import type { Scenario } from "../../scenarios/harness.ts";
import { socketTarget } from "./socket-target.ts";

/**
 * The Worker as `wrangler dev` runs it (workerd started with wrangler's unstable_startWorker, wrangler.toml and
 * its Durable Object binding), on a loopback port. Client disconnects reach workerd only at its next write (a
 * heartbeat), so heartbeats are short here. (wrangler's createTestHarness was tried first: its socket does not
 * pass a client disconnect on to the Worker, so a cancelled stream kept its Redis subscription.)
 */
export interface WranglerDev {
  url: string;
  stop(): Promise<void>;
}

const text = (value: string) => ({ type: "plain_text" as const, value });

export async function startWranglerDev(
  upstash: { url: string; token: string },
  vars: Record<string, string> = {},
): Promise<WranglerDev> {
  const bindings: Record<string, { type: "plain_text"; value: string }> = {
    UPSTASH_REDIS_REST_URL: text(upstash.url),
    UPSTASH_REDIS_REST_TOKEN: text(upstash.token),
    RELAY_JWT_SECRET: text(TEST_JWT_SECRET),
    RELAY_HEARTBEAT_MS: text("1000"),
  };
  for (const [name, value] of Object.entries(vars)) bindings[name] = text(value);
  const worker = await unstable_startWorker({
    config: "wrangler.toml",
    bindings,
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, watch: false, logLevel: "error" },
  });
  await worker.ready;
  return { url: (await worker.url).toString(), stop: () => worker.dispose() };
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
