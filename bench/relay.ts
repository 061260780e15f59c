/**
 * Relay benchmark (docs/benchmarks.md): the relay on Node, Deno and Workers (wrangler dev), each beside its own
 * fan-out floor (bench/floors: the least code that runtime needs to fan a POSTed body out to held SSE streams)
 * and beside direct Redis PUBLISH→SUBSCRIBE, all in the same run. Open-loop scenarios (messages on a schedule,
 * latency from the due time, so saturation shows), per-leg timing of one message, memory per open stream,
 * long-poll, and the closed-loop tables. Every subscriber's receipts are checked for loss, duplicates and order.
 *
 * Path under test: HTTP client → relay → REST proxy (own process) → redis-server. Auth stays on: requests carry an
 * HS256 token minted for the run (scope `publish:bench.* subscribe:bench.*`).
 *
 * Run: `npm run bench -- relay`, or standalone `node bench/relay.ts` (Node ≥ 22.12). Subsets and settings come
 * from BENCH_RELAY_RUNTIMES, BENCH_RELAY_SCENARIOS, BENCH_RELAY_SCALE, BENCH_RELAY_ENV, BENCH_RELAY_SUBSCRIBERS
 * (see bench/relay/selection.ts).
 */
import { fileURLToPath } from "node:url";
import type { BenchReport } from "./lib/module.ts";
import { runClosedLoopSuite } from "./relay/closed-loop-suite.ts";
import { connectDirect } from "./relay/direct-redis.ts";
import { measureStreamFloor } from "./relay/floor.ts";
import { runLongPollSuite } from "./relay/long-poll-suite.ts";
import {
  channel,
  type OpenLoopOutcome,
  type OpenLoopScenarioName,
  openLoopScenarios,
  runOpenLoopScenario,
} from "./relay/open-loop-suite.ts";
import { renderReport } from "./relay/report.ts";
import { measureRoundTrips } from "./relay/round-trips.ts";
import { type RuntimeUnderTest, startRuntime } from "./relay/runtimes.ts";
import { selectionFromEnv } from "./relay/selection.ts";
import { startRelayBenchStack } from "./relay/stack.ts";

export const name = "relay";

const ROUND_TRIPS = 100;
const OPEN_LOOP_ORDER: readonly OpenLoopScenarioName[] = ["legs", "open-100", "open-1000", "flat-out"];

export async function run(log: (line: string) => void = (line) => console.log(line)): Promise<BenchReport> {
  const selection = selectionFromEnv();
  const wants = (scenario: (typeof selection.scenarios)[number]) => selection.scenarios.includes(scenario);
  const started = performance.now();
  const phase = (text: string) => log(`  [${((performance.now() - started) / 1000).toFixed(0)} s] ${text}`);
  const stack = await startRelayBenchStack();
  try {
    const publisher = await connectDirect(stack.redisUrl);
    stack.onStop(async () => publisher.disconnect());
    const runtimes: RuntimeUnderTest[] = [];
    for (const runtime of selection.runtimes) {
      phase(`starting the relay on ${runtime} and its fan-out floor`);
      runtimes.push(await startRuntime(runtime, stack, selection.relayEnv));
    }
    const labels = Object.fromEntries(runtimes.map((runtime) => [runtime.name, runtime.label]));

    let roundTrips: Awaited<ReturnType<typeof measureRoundTrips>> | undefined;
    if (wants("round-trips")) {
      phase("round trips");
      roundTrips = await measureRoundTrips({
        runtimes,
        authorization: stack.authorization,
        direct: publisher,
        proxyUrl: stack.proxyUrl,
        proxyToken: stack.proxyToken,
        channel: channel("probe"),
        count: ROUND_TRIPS,
      });
    }

    const plans = openLoopScenarios(selection.scale);
    const openLoop = new Map<OpenLoopScenarioName, OpenLoopOutcome>();
    let bareStream: Awaited<ReturnType<typeof measureStreamFloor>> | undefined;
    for (const scenario of OPEN_LOOP_ORDER) {
      if (!wants(scenario)) continue;
      openLoop.set(scenario, await runOpenLoopScenario(plans[scenario], runtimes, stack, publisher, phase));
      if (scenario === "open-1000" && selection.runtimes.includes("workers")) {
        phase(`memory floor: ${plans[scenario].plan.subscribers} bare held streams under wrangler dev`);
        bareStream = await measureStreamFloor(plans[scenario].plan.subscribers);
      }
    }

    const longPoll = wants("long-poll") ? await runLongPollSuite(runtimes, stack, phase) : undefined;
    const closedLoop = wants("closed")
      ? await runClosedLoopSuite(
          selection.closedSubscribers,
          runtimes,
          stack,
          publisher,
          selection.scale,
          phase,
        )
      : undefined;
    phase("done");
    return renderReport({
      selection,
      labels,
      roundTrips,
      openLoop,
      bareStream,
      closedLoop,
      longPoll,
      seconds: (performance.now() - started) / 1000,
    });
  } finally {
    await stack.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await run();
  console.log(`\n${result.markdown}`);
  process.exitCode = result.targetsMet ? 0 : 1;
}
