import { describe, it } from "vitest";
import { kvScenarios } from "../scenarios/kv.ts";
import { workersTarget } from "./target.ts";

/** The data-plane scenarios with the relay inside workerd. Deno, Node and real sockets run the same lists. */
const target = workersTarget();
const suites = { kv: kvScenarios };

for (const [suite, scenarios] of Object.entries(suites)) {
  describe(suite, () => {
    for (const scenario of scenarios) it(scenario.name, () => scenario.run(target));
  });
}
