import { describe, it } from "vitest";
import { longPollScenarios } from "../scenarios/longpoll.ts";
import { workersTarget } from "./target.ts";

/** History and long-poll with the relay inside workerd. */
const target = workersTarget();

describe("long-poll", () => {
  for (const scenario of longPollScenarios) it(scenario.name, () => scenario.run(target));
});
