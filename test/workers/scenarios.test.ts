import { describe, it } from "vitest";
import { authScenarios } from "../scenarios/auth.ts";
import { hostileScenarios } from "../scenarios/hostile.ts";
import { kvScenarios } from "../scenarios/kv.ts";
import { methodScenarios } from "../scenarios/methods.ts";
import { publishScenarios } from "../scenarios/publish.ts";
import { reservedScenarios } from "../scenarios/reserved.ts";
import { workersTarget } from "./target.ts";

/** The data-plane scenarios with the relay inside workerd. Deno, Node and real sockets run the same lists. */
const target = workersTarget();
const suites = {
  kv: kvScenarios,
  publish: publishScenarios,
  auth: authScenarios,
  hostile: hostileScenarios,
  reserved: reservedScenarios,
  methods: methodScenarios,
};

for (const [suite, scenarios] of Object.entries(suites)) {
  describe(suite, () => {
    for (const scenario of scenarios) it(scenario.name, () => scenario.run(target));
  });
}
