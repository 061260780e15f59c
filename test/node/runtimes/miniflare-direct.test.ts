import { allSuites } from "./suites.ts";
import { wranglerDevScenarios } from "./wrangler-dev.ts";

/**
 * The SSE and long-poll scenarios against the Worker under `wrangler dev` on the direct path (RELAY_HUB=off, as
 * a host without Durable Objects): each stream and long-poll holds its own upstream stream in the Worker.
 */
wranglerDevScenarios("workerd over a socket, direct path", {
  vars: { RELAY_HUB: "off" },
  hub: false,
  suites: { sse: allSuites.sse ?? [], "long-poll": allSuites["long-poll"] ?? [] },
});
