import { nodeScenarios } from "./node-suites.ts";

/**
 * Every scenario against the Node entry on the direct path (RELAY_HUB=off: one upstream stream per SSE stream and
 * long-poll, what Workers without a Durable Object runs), over a real loopback socket.
 */
nodeScenarios("node direct", false);
