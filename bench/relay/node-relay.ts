import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { freePort } from "../../src/cli/free-port.ts";
import { stopChild, waitUntilServing } from "./child-process.ts";

const NODE_ENTRY = resolve(import.meta.dirname, "../../src/entry/node.ts");
const READY_TIMEOUT_MS = 30_000;

export interface NodeRelay {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The same relay app on Node (`src/entry/node.ts`), against the same proxy: the comparison that shows how much of
 * a figure is workerd and `wrangler dev` rather than the relay. Only the given settings reach it (no RELAY_* from
 * the shell), so it runs with the defaults, like the worker.
 */
export async function startNodeRelay(settings: Record<string, string>): Promise<NodeRelay> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("RELAY_")) env[name] = value;
  const child = spawn(process.execPath, ["--no-warnings", NODE_ENTRY], {
    cwd: join(import.meta.dirname, "../.."),
    env: { ...env, ...settings, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(`${url}/healthz`, child, "the Node relay", READY_TIMEOUT_MS);
  } catch (error) {
    await stopChild(child, 2000);
    throw error;
  }
  return { url, pid: child.pid ?? 0, stop: () => stopChild(child, 5000) };
}
