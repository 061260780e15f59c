import { allSuites } from "./suites.ts";
import { wranglerDevScenarios } from "./wrangler-dev.ts";

/**
 * Every scenario against the Worker under `wrangler dev`, over a real loopback socket, on the Durable Object hub
 * path: wrangler.toml's binding, so SSE streams and long-polls are served by the channel's object
 * (miniflare-direct.test.ts: the direct path).
 */
wranglerDevScenarios("workerd over a socket", { hub: true, suites: allSuites });
