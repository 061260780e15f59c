// NOT YET IN `npm test` (named .suite.ts so vitest does not collect it): every scenario still times out at
// 120 s on Node (2026-12-05 run), the harness is unfinished. Next step: find where runScenario waits forever
// (likely the catch-up wait in scenario.ts), then rename to faults.test.ts. The ledger and its unit test run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULTS } from "./faults.ts";
import type { RelayRuntime } from "./relay-process.ts";
import { runScenario } from "./scenario.ts";
import { type FaultStack, startFaultStack } from "./stack.ts";

/**
 * The fault suite (issue 8): under load (20 SSE subscribers, 5 long-poll loops, 50 messages a second), each
 * fault is injected into a private stack (redis-server, the REST proxy and the relay, each its own process on
 * loopback) and must leave every acknowledged message delivered exactly once, in order, unless a reset or gap
 * said it was lost; no stream silent over a dead feed; no 500; nothing left open. See docs/sse.md, "What a
 * client sees under faults".
 *
 * Runtimes: the Node entry and the Deno entry take every fault. Workers runs under `wrangler dev`, where the
 * relay has no process of its own: (e) kill and (f) SIGTERM of the relay cannot be injected there (on the
 * platform, isolates are the runtime's to stop), so its list has (a)-(d) only.
 *
 * The scenarios run one after the other (a stack per runtime, fresh channels per scenario): the timing bounds
 * are meant for one scenario at a time on a 2-core machine.
 */
const RUNTIMES: readonly RelayRuntime[] = ["node", "deno", "workers"];
const SCENARIO_TIMEOUT_MS = 120_000;

describe.sequential.each(RUNTIMES)("faults on the %s relay", (runtime) => {
  let stack: FaultStack | undefined;
  beforeAll(async () => {
    stack = await startFaultStack(runtime);
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  for (const fault of FAULTS.filter((f) => f.runtimes.includes(runtime))) {
    it(
      fault.name,
      async () => {
        const report = await runScenario(stack as FaultStack, fault);
        console.log(`[${runtime}] ${report.summary}`);
        expect(report.problems).toEqual([]);
      },
      SCENARIO_TIMEOUT_MS,
    );
  }

  it("stops every process it started", async () => {
    const started = (stack as FaultStack).pids();
    expect(started.length).toBeGreaterThanOrEqual(3);
    const left = await (stack as FaultStack).stop();
    expect(left).toEqual([]);
  }, 60_000);
});
