import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { freePort } from "../../src/cli/free-port.ts";
import { stopChild, waitUntilServing } from "./child-process.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const DENO = join(ROOT, "node_modules/.bin/deno");
const READY_TIMEOUT_MS = 60_000;

export interface RelayProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The relay app on Node (`src/entry/node.ts`) or Deno (`deno run src/entry/deno.ts --listen`), against the
 * benchmark's proxy. Only the given settings reach it (no RELAY_* from the shell; BENCH_RELAY_ENV is passed in
 * `settings` by the caller), so it runs with the defaults otherwise, like the worker.
 */
export async function startRelayProcess(
  runtime: "node" | "deno",
  settings: Record<string, string>,
): Promise<RelayProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("RELAY_")) env[name] = value;
  const [command, args] =
    runtime === "node"
      ? [process.execPath, ["--no-warnings", join(ROOT, "src/entry/node.ts")]]
      : [DENO, ["run", "--allow-net", "--allow-env", "--allow-read", "src/entry/deno.ts", "--listen"]];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...env, ...settings, PORT: String(port), HOST: "127.0.0.1", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(`${url}/healthz`, child, `the relay on ${runtime}`, READY_TIMEOUT_MS);
  } catch (error) {
    await stopChild(child, 2000);
    throw error;
  }
  return { url, pid: child.pid ?? 0, stop: () => stopChild(child, 5000) };
}
