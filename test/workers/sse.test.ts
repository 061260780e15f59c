import { describe, it } from "vitest";
import { sseScenarios } from "../scenarios/sse.ts";
import { workersTarget } from "./target.ts";

/** SSE delivery with the relay inside workerd (src/entry/worker.ts, wrangler.toml bindings). */
const target = workersTarget();

describe("sse", () => {
  for (const scenario of sseScenarios) it(scenario.name, () => scenario.run(target), 90_000);
});
