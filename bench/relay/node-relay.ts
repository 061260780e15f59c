import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { freePort } from "../../src/cli/free-port.ts";
import { stopChild } from "./child-process.ts";

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
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the Node relay exited with code ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      await stopChild(child, 2000);
      throw new Error(
        `the Node relay did not answer ${url}/healthz within ${READY_TIMEOUT_MS / 1000} s:\n${output}`,
      );
    }
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(
      () => undefined,
    );
    await response?.body?.cancel();
    if (response?.ok) break;
    await new Promise((done) => setTimeout(done, 200));
  }
  return { url, pid: child.pid ?? 0, stop: () => stopChild(child, 5000) };
}
