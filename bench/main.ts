/**
 * `npm run bench [-- <name>...]`: runs every benchmark module (or the named ones) in turn and prints each
 * report. A benchmark is one more entry in BENCHMARKS: a module exporting `name` and `run(log)`.
 * Exit code 1 when a figure misses its stated target. Not a test: figures depend on the machine.
 */
import type { BenchModule } from "./lib/module.ts";

const BENCHMARKS: Array<() => Promise<BenchModule>> = [
  () => import("./proxy.ts"),
  () => import("./relay.ts"),
  () => import("./cluster.ts"),
];

const wanted = process.argv.slice(2);
const modules = await Promise.all(BENCHMARKS.map((load) => load()));
const unknown = wanted.filter((name) => !modules.some((module) => module.name === name));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark ${unknown.join(", ")}; choose from ${modules.map((module) => module.name).join(", ")}`,
  );
  process.exit(2);
}
let allMet = true;
for (const module of modules.filter((candidate) => wanted.length === 0 || wanted.includes(candidate.name))) {
  console.log(`\n## ${module.name} (Node ${process.version}, ${new Date().toISOString()})\n`);
  const report = await module.run((line) => console.log(line));
  console.log(`\n${report.markdown}\n`);
  allMet &&= report.targetsMet;
}
process.exitCode = allMet ? 0 : 1;
