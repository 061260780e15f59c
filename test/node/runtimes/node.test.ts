import { nodeScenarios } from "./node-suites.ts";

/**
 * Every scenario against the Node entry (src/entry/node.ts, @hono/node-server) over a real loopback socket, with
 * the delivery hub (the default); node-direct.test.ts runs them on the direct path.
 */
nodeScenarios("node", true);
