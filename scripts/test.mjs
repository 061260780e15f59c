#!/usr/bin/env node
// `npm test`: every runner in turn (vitest: node + workerd projects; deno test), then ONE plain summary
// line `N passed, N failed` summing them all, because CI reads only that line.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";

const root = join(import.meta.dirname, "..");
const results = join(root, ".test-results");
const bin = (name) => join(root, "node_modules", ".bin", name);
const extraArgs = process.argv.slice(2);

/** Runs a command with inherited output; resolves its exit code. Also tees output when `capture` is set. */
function run(cmd, args, { capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: capture ? ["inherit", "pipe", "pipe"] : "inherit" });
    let output = "";
    if (capture) {
      child.stdout.on("data", (chunk) => {
        output += chunk;
        process.stdout.write(chunk);
      });
      child.stderr.on("data", (chunk) => {
        output += chunk;
        process.stderr.write(chunk);
      });
    }
    child.on("error", (error) => resolve({ code: 127, output: String(error) }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

async function vitest() {
  const report = join(results, "vitest.json");
  rmSync(report, { force: true });
  const { code } = await run(bin("vitest"), [
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
    ...extraArgs,
  ]);
  if (!existsSync(report))
    return { runner: "vitest", passed: 0, failed: 1, note: `no report (exit ${code})` };
  const json = JSON.parse(readFileSync(report, "utf8"));
  // A file that fails to load has no tests but is a failure: count it.
  const brokenFiles = (json.testResults ?? []).filter(
    (f) => f.status === "failed" && f.assertionResults.length === 0,
  );
  const failed =
    json.numFailedTests +
    brokenFiles.length +
    (code !== 0 && json.numFailedTests === 0 && brokenFiles.length === 0 ? 1 : 0);
  return {
    runner: "vitest",
    passed: json.numPassedTests,
    failed,
    skipped: json.numPendingTests + json.numTodoTests,
  };
}

async function deno() {
  const dir = join(root, "test", "deno");
  if (!existsSync(dir) || !readdirSync(dir).some((f) => f.endsWith(".test.ts"))) return undefined;
  const { code, output } = await run(bin("deno"), ["test", "--allow-all", "test/deno/"], { capture: true });
  // Deno's summary: "ok | 12 passed (3 steps) | 0 failed (2s)" or "FAILED | 11 passed | 1 failed (2s)".
  const clean = stripVTControlCharacters(output);
  const match = [...clean.matchAll(/(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/g)].at(
    -1,
  );
  if (!match) return { runner: "deno", passed: 0, failed: 1, note: `no summary (exit ${code})` };
  const failed = Number(match[2]) + (code !== 0 && Number(match[2]) === 0 ? 1 : 0);
  return { runner: "deno", passed: Number(match[1]), failed };
}

mkdirSync(results, { recursive: true });
const onlyVitest = extraArgs.length > 0; // `npm test -- <filter>` narrows to vitest
const outcomes = [await vitest()];
if (!onlyVitest) outcomes.push(await deno());

let passed = 0;
let failed = 0;
console.log("\nSummary by runner:");
for (const outcome of outcomes.filter(Boolean)) {
  passed += outcome.passed;
  failed += outcome.failed;
  console.log(
    `  ${outcome.runner}: ${outcome.passed} passed, ${outcome.failed} failed${outcome.note ? ` (${outcome.note})` : ""}`,
  );
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
