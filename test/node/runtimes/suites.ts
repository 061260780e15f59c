import { authScenarios } from "../../scenarios/auth.ts";
import type { Scenario } from "../../scenarios/harness.ts";
import { hostileScenarios } from "../../scenarios/hostile.ts";
import { kvScenarios } from "../../scenarios/kv.ts";
import { longPollScenarios, longPollSocketScenarios } from "../../scenarios/longpoll.ts";
import { publishScenarios } from "../../scenarios/publish.ts";
import { sseScenarios } from "../../scenarios/sse.ts";

/** Every scenario list, by suite: the runners for Node, Deno and workerd-over-sockets run all of them. */
export const allSuites: Record<string, Scenario[]> = {
  kv: kvScenarios,
  publish: publishScenarios,
  auth: authScenarios,
  hostile: hostileScenarios,
  sse: sseScenarios,
  "long-poll": [...longPollScenarios, ...longPollSocketScenarios],
};
