import type { BenchReport } from "../lib/module.ts";
import { markdownTable } from "../lib/table.ts";
import {
  closedLoopBurstSection,
  closedLoopCpuSection,
  closedLoopLatencySection,
} from "./closed-loop-report.ts";
import type { ClosedLoopPair } from "./closed-loop-suite.ts";
import type { DeliveryCheck } from "./deliveries.ts";
import type { StreamFloor } from "./floor.ts";
import { issueTargets, type Verdict } from "./issue-targets.ts";
import { legsSection, roundTripSection } from "./legs-report.ts";
import { longPollSection } from "./long-poll-report.ts";
import type { LongPollOutcome } from "./long-poll-suite.ts";
import { memorySection } from "./memory-report.ts";
import { openLoopSection } from "./open-loop-report.ts";
import type { OpenLoopOutcome, OpenLoopScenarioName } from "./open-loop-suite.ts";
import { clean } from "./report-cells.ts";
import type { RoundTrip } from "./round-trips.ts";
import type { RuntimeName } from "./runtimes.ts";
import type { RelayBenchSelection } from "./selection.ts";
import { fixed } from "./stats.ts";

export interface RelayBenchResults {
  selection: RelayBenchSelection;
  labels: Record<string, string>;
  roundTrips: RoundTrip[] | undefined;
  openLoop: Map<OpenLoopScenarioName, OpenLoopOutcome>;
  /** Workers: a worker that only holds streams open, under the same wrangler dev (memory floor). */
  bareStream: StreamFloor | undefined;
  closedLoop: ClosedLoopPair[] | undefined;
  longPoll: LongPollOutcome | undefined;
  seconds: number;
}

interface Checked {
  name: string;
  check: DeliveryCheck;
  errors: readonly string[];
}

/** Markdown tables with absolute figures and ratios to the same run's baselines, then the targets' verdicts. */
export function renderReport(results: RelayBenchResults): BenchReport {
  const { selection, openLoop } = results;
  const legs = openLoop.get("legs");
  const memoryOutcome = openLoop.get("open-1000");
  const sections = [
    settingsLine(selection),
    results.roundTrips ? roundTripSection(results.roundTrips) : "",
    legs ? legsSection(legs, results.roundTrips) : "",
    ...(["open-100", "open-1000", "flat-out"] as const).map((name) => {
      const outcome = openLoop.get(name);
      return outcome ? openLoopSection(outcome) : "";
    }),
    memoryOutcome ? memorySection(memoryOutcome, results.bareStream) : "",
    results.longPoll ? longPollSection(results.longPoll) : "",
    ...(results.closedLoop
      ? [
          closedLoopLatencySection(results.closedLoop),
          closedLoopBurstSection(results.closedLoop),
          closedLoopCpuSection(results.closedLoop),
        ]
      : []),
  ];
  const scenarios = checkedScenarios(results);
  const dirty = scenarios.filter((s) => !clean(s.check) || s.errors.length > 0);
  const verdicts: Verdict[] = [
    {
      target: "zero loss, zero duplicates, in order, in every scenario",
      met: dirty.length === 0,
      detail:
        dirty.length === 0
          ? `${scenarios.length} scenario runs checked`
          : `failed: ${dirty.map((s) => s.name).join(", ")}`,
    },
    ...issueTargets({
      runtimes: selection.runtimes as RuntimeName[],
      labels: results.labels,
      openLoop,
      bareStream: results.bareStream,
      longPoll: results.longPoll,
    }),
  ];
  sections.push(
    `### Targets (run took ${fixed(results.seconds, 0)} s)\n\n` +
      markdownTable(
        ["target", "result", "measured"],
        verdicts.map((v) => [
          v.target,
          v.met === undefined ? "not run" : v.met ? "met" : "**MISSED**",
          v.detail,
        ]),
      ),
  );
  const errors = errorLines(scenarios);
  if (errors) sections.push(errors);
  return {
    markdown: sections.filter(Boolean).join("\n\n"),
    targetsMet: verdicts.every((v) => v.met !== false),
  };
}

function settingsLine(selection: RelayBenchSelection): string {
  const env = Object.entries(selection.relayEnv).map(([name, value]) => `${name}=${value}`);
  return (
    `Runtimes: ${selection.runtimes.join(", ")}. Scenarios: ${selection.scenarios.join(", ")}. ` +
    `Message counts × ${selection.scale}. Relay settings beyond the defaults: ${env.length > 0 ? env.join(", ") : "none"}.`
  );
}

/** Every side of every scenario, for the loss/duplicate/order verdict and the error list. */
function checkedScenarios(results: RelayBenchResults): Checked[] {
  const checked: Checked[] = [];
  for (const [name, outcome] of results.openLoop) {
    const sides = [outcome.direct, ...outcome.runtimes.flatMap((entry) => [entry.floor, entry.relay])];
    for (const side of sides)
      checked.push({ name: `${name}: ${side.label}`, check: side.check, errors: side.errors });
  }
  for (const { relay, direct } of results.closedLoop ?? []) {
    for (const side of [direct, relay]) {
      checked.push({
        name: `closed ×${side.subscribers}: ${side.target}`,
        check: side.check,
        errors: side.errors,
      });
    }
  }
  if (results.longPoll) {
    const { direct, runtimes } = results.longPoll;
    checked.push({ name: "long-poll: direct Redis", check: direct.check, errors: direct.errors });
    for (const { label, relay } of runtimes)
      checked.push({ name: `long-poll: relay on ${label}`, check: relay.check, errors: relay.errors });
  }
  return checked;
}

function errorLines(scenarios: readonly Checked[]): string {
  const errors = new Map<string, number>();
  for (const s of scenarios)
    for (const e of s.errors) errors.set(`${s.name}: ${e}`, (errors.get(`${s.name}: ${e}`) ?? 0) + 1);
  if (errors.size === 0) return "";
  const lines = [...errors]
    .slice(0, 20)
    .map(([text, count]) => `- ${text}${count > 1 ? ` (×${count})` : ""}`);
  return `Errors:\n${lines.join("\n")}`;
}
