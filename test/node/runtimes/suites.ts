import { authScenarios } from "../../scenarios/auth.ts";
import type { Scenario } from "../../scenarios/harness.ts";
import { hostileScenarios } from "../../scenarios/hostile.ts";
import { kvScenarios } from "../../scenarios/kv.ts";
import { longPollScenarios, longPollSocketScenarios } from "../../scenarios/longpoll.ts";
import { methodScenarios } from "../../scenarios/methods.ts";
import { publishScenarios } from "../../scenarios/publish.ts";
import { reservedScenarios } from "../../scenarios/reserved.ts";
import { sseScenarios, sseSocketScenarios } from "../../scenarios/sse.ts";

/**
 * Every scenario list, by suite: the runners for Node, Deno and workerd-over-sockets run all of them, with the
 * relay on a loopback socket and RELAY_HEARTBEAT_MS=1000 (the socket-only scenarios rely on both).
 */
export const allSuites: Record<string, Scenario[]> = {
  kv: kvScenarios,
  publish: publishScenarios,
  auth: authScenarios,
  hostile: hostileScenarios,
  reserved: reservedScenarios,
  methods: methodScenarios,
  sse: [...sseScenarios, ...sseSocketScenarios],
  "long-poll": [...longPollScenarios, ...longPollSocketScenarios],
};
