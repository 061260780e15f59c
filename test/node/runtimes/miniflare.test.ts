import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { unstable_startWorker } from "wrangler";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { socketTarget } from "./socket-target.ts";
import { allSuites } from "./suites.ts";

/**
 * Every scenario against the Worker as `wrangler dev` runs it (workerd started with wrangler's
 * unstable_startWorker), over a real loopback socket with Node's fetch: what a browser sees, including client
 * disconnects, which workerd notices only at its next write (a heartbeat, so heartbeats are short here).
 * (wrangler's createTestHarness was tried first: its socket does not pass a client disconnect on to the
 * Worker, so a cancelled stream kept its Redis subscription; `wrangler dev` and unstable_startWorker do.)
 */
type StartedWorker = Awaited<ReturnType<typeof unstable_startWorker>>;
let worker: StartedWorker | undefined;
let baseUrl: string | undefined;

const text = (value: string) => ({ type: "plain_text" as const, value });

beforeAll(async () => {
  worker = await unstable_startWorker({
    config: "wrangler.toml",
    bindings: {
      UPSTASH_REDIS_REST_URL: text(inject("upstashUrl")),
      UPSTASH_REDIS_REST_TOKEN: text(inject("upstashToken")),
      RELAY_JWT_SECRET: text(TEST_JWT_SECRET),
      RELAY_HEARTBEAT_MS: text("1000"),
    },
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, watch: false, logLevel: "error" },
  });
  await worker.ready;
  baseUrl = (await worker.url).toString();
}, 120_000);
afterAll(async () => {
  await worker?.dispose();
});

const target = socketTarget({
  runtime: "miniflare-socket",
  baseUrl: () => {
    if (!baseUrl) throw new Error("the worker did not start");
    return baseUrl;
  },
  upstashUrl: inject("upstashUrl"),
  upstashToken: inject("upstashToken"),
});

for (const [suite, scenarios] of Object.entries(allSuites)) {
  describe(`workerd over a socket: ${suite}`, () => {
    for (const scenario of scenarios) it(scenario.name, () => scenario.run(target), 90_000);
  });
}
