#!/usr/bin/env node
// The `relay` command. The CLI is TypeScript run directly: Node >= 22.18 strips types natively. On an older
// Node, re-run under the Node 22 this package installs (node_modules/.bin/node) when it is there.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const [major, minor] = process.versions.node.split(".").map(Number);
const stripsTypes = major > 22 || (major === 22 && minor >= 18);

if (stripsTypes) {
  const { main: run } = await import(main);
  process.exitCode = await run(process.argv.slice(2));
} else {
  const bundled = [new URL("../node_modules/.bin/node", import.meta.url), new URL("../../.bin/node", import.meta.url)]
    .map((url) => fileURLToPath(url))
    .find((path) => existsSync(path));
  if (!bundled) {
    process.stderr.write(
      `relay: needs Node.js >= 22.18 (it runs TypeScript directly); this is Node ${process.versions.node}.\n` +
        "Install a newer Node (https://nodejs.org, or `nvm install 22`), or run `npm install` in the package " +
        "so its bundled Node 22 (node_modules/.bin/node) can be used.\n",
    );
    process.exit(6);
  }
  const child = spawn(bundled, [main, ...process.argv.slice(2)], { stdio: "inherit" });
  // The terminal sends Ctrl-C to both of us; SIGTERM from a supervisor reaches only us, so pass it on.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
