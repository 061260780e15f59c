import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../../src/cli/free-port.ts";
import { stopChild } from "./child-process.ts";
import { descendantsNamed } from "./proc.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const READY_TIMEOUT_MS = 120_000;

export interface WranglerDev {
  url: string;
  /** The workerd processes below wrangler (it runs more than one). */
  workerdPids(): number[];
  stop(): Promise<void>;
}

/**
 * The relay under `wrangler dev`, from a snapshot: the worker is bundled once (`wrangler deploy --dry-run`) into a
 * temporary directory and served with `--no-bundle`, so edits to src/ during a run cannot reload the worker
 * mid-measurement (wrangler dev has no switch to stop watching). Secrets go through a temporary env file: never
 * argv, never a developer's `.dev.vars`.
 */
export async function startWranglerDev(
  secrets: Record<string, string>,
  log: (line: string) => void,
): Promise<WranglerDev> {
  const scratch = mkdtempSync(join(tmpdir(), "relay-bench-"));
  const cleanupScratch = () => rmSync(scratch, { recursive: true, force: true });
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    NO_COLOR: "1",
    WRANGLER_LOG_PATH: join(scratch, "logs"),
  };
  const build = spawnSync(
    process.execPath,
    [WRANGLER, "deploy", "--dry-run", "--outdir", join(scratch, "build")],
    {
      cwd: ROOT,
      env,
      encoding: "utf8",
    },
  );
  if (build.status !== 0) {
    cleanupScratch();
    throw new Error(
      `bundling the worker failed (wrangler deploy --dry-run):\n${build.stdout}\n${build.stderr}`,
    );
  }
  const envFile = join(scratch, "secrets.env");
  writeFileSync(
    envFile,
    Object.entries(secrets)
      .map(([key, value]) => `${key}=${JSON.stringify(value)}\n`)
      .join(""),
    { mode: 0o600 },
  );
  const port = await freePort();
  const inspectorPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      WRANGLER,
      "dev",
      join(scratch, "build/worker.js"),
      "--no-bundle",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-ip",
      "127.0.0.1",
      "--inspector-port",
      String(inspectorPort),
      "--env-file",
      envFile,
      "--persist-to",
      join(scratch, "state"),
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
    ],
    { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-6000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const stop = async () => {
    const workers = child.pid ? descendantsNamed(child.pid, /workerd/) : [];
    await stopChild(child, 5000);
    // workerd exits with wrangler; make sure, by pid, that none is left behind.
    for (const pid of workers) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    cleanupScratch();
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  log(`wrangler dev (bundled snapshot) ready at ${url}`);
  return { url, workerdPids: () => (child.pid ? descendantsNamed(child.pid, /workerd/) : []), stop };
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`wrangler dev exited with code ${child.exitCode}:\n${output()}`);
    if (Date.now() > deadline)
      throw new Error(
        `wrangler dev did not answer ${url}/healthz within ${READY_TIMEOUT_MS / 1000} s:\n${output()}`,
      );
    const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(
      () => undefined,
    );
    await health?.body?.cancel();
    if (health?.ok) return;
    await new Promise((done) => setTimeout(done, 250));
  }
}
