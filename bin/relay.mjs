#!/usr/bin/env node
// The `relay` command. An installed package runs the JavaScript build, dist/cli.mjs (any Node >= 20; Node will
// not strip TypeScript types under node_modules). A clone of the repository runs the TypeScript source, so what
// runs is always the code being edited, never a stale build: Node >= 22.18 strips types natively; on an older
// Node the build is used when it exists, else the command re-runs under the Node 22 the repository installs
// (node_modules/.bin/node).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { sep } from "node:path";
import { fileURLToPath } from "node:url";

const source = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const build = fileURLToPath(new URL("../dist/cli.mjs", import.meta.url));
const [major, minor] = process.versions.node.split(".").map(Number);
const stripsTypes = major > 22 || (major === 22 && minor >= 18);
const underNodeModules = fileURLToPath(import.meta.url).split(sep).includes("node_modules");
const args = process.argv.slice(2);

if (existsSync(source) && stripsTypes && !underNodeModules) {
  const { main } = await import(source);
  process.exitCode = await main(args);
} else if (existsSync(build)) {
  const { main } = await import(build);
  process.exitCode = await main(args);
} else if (!existsSync(source)) {
  process.stderr.write(
    `relay: this package has no build (${build} is missing) and no source to run.\n` +
      "Reinstall it from a packed tarball (`npm pack` builds dist/), or run `npm run build` in the package.\n",
  );
  process.exit(6);
} else {
  const bundled = [new URL("../node_modules/.bin/node", import.meta.url), new URL("../../.bin/node", import.meta.url)]
    .map((url) => fileURLToPath(url))
    .find((path) => existsSync(path));
  if (!bundled) {
    process.stderr.write(
      `relay: needs Node.js >= 22.18 to run from the source (it runs TypeScript directly); this is Node ` +
        `${process.versions.node}.\nInstall a newer Node (https://nodejs.org, or \`nvm install 22\`), run ` +
        "`npm run build` so the JavaScript build (dist/cli.mjs) is used, or run `npm install` in the package " +
        "so its bundled Node 22 (node_modules/.bin/node) can be used.\n",
    );
    process.exit(6);
  }
  const child = spawn(bundled, [source, ...args], { stdio: "inherit" });
  // The terminal sends Ctrl-C to both of us; SIGTERM from a supervisor reaches only us, so pass it on.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
