#!/usr/bin/env node
// `npm test`: every runner in turn (vitest: node + workerd projects; deno test), then ONE plain summary
// line `N passed, N failed` summing them all, because CI reads only that line. Just above it the summary names
// every failed test and every test that failed once and passed on its one retry (a flaky test is reported,
// never hidden: the retry keeps one slow moment on a shared 2-core CI machine from failing the whole run).
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
  rmSync(join(results, "flaky.json"), { force: true });
  const { code } = await run(bin("vitest"), [
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
    "--reporter=./scripts/flaky-reporter.mjs",
    "--retry=1",
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
  const failures = [];
  for (const file of json.testResults ?? []) {
    const where = file.name.replace(`${root}/`, "");
    if (file.status === "failed" && file.assertionResults.length === 0)
      failures.push(`${where}: did not load: ${firstLine(file.message)}`);
    for (const test of file.assertionResults)
      if (test.status === "failed")
        failures.push(`${where} > ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
  }
  const flakyFile = join(results, "flaky.json");
  const flaky = existsSync(flakyFile)
    ? JSON.parse(readFileSync(flakyFile, "utf8")).map((t) => `${t.file} > ${t.name}: ${t.firstError}`)
    : [];
  return {
    runner: "vitest",
    passed: json.numPassedTests,
    failed,
    skipped: json.numPendingTests + json.numTodoTests,
    failures,
    flaky,
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
  // Deno lists each failure after its FAILURES heading as "<name> => ./test/deno/x.test.ts:12:3".
  const failuresSection = clean.split(/^\s*FAILURES\s*$/m)[1] ?? "";
  const failures = [...failuresSection.matchAll(/^(.+ => \S+:\d+:\d+)$/gm)].map((m) => m[1].trim());
  return { runner: "deno", passed: Number(match[1]), failed, failures };
}

/** The first line of an error message, short enough for a summary. */
function firstLine(message = "") {
  return stripVTControlCharacters(String(message)).split("\n")[0].slice(0, 300);
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
for (const outcome of outcomes.filter(Boolean)) {
  for (const line of outcome.flaky ?? [])
    console.log(`  flaky (${outcome.runner}, passed on retry): ${line}`);
  for (const line of outcome.failures ?? []) console.log(`  FAILED (${outcome.runner}): ${line}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
