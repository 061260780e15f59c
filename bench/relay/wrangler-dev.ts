import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../../src/cli/free-port.ts";
import { stopChild, waitUntilServing } from "./child-process.ts";
import { descendantsNamed } from "./proc.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const READY_TIMEOUT_MS = 120_000;

export interface WorkerdProcesses {
  /** wrangler dev's own entry workerd on the public port: it forwards every request (production has no such hop). */
  entry: number[];
  /** The workerd that runs the worker itself. */
  worker: number[];
}

export interface WranglerDev {
  url: string;
  port: number;
  /** wrangler's own process (workerd runs as its descendants: `workerd()`). */
  pid: number;
  workerd(): WorkerdProcesses;
  stop(): Promise<void>;
}

interface WranglerDevOptions {
  /** Puts the worker into the run's scratch directory; returns the working directory and the arguments after
   * `wrangler dev` that choose the worker (script, config, compatibility). */
  prepare(scratch: string): { cwd: string; workerArgs: string[] };
  secrets?: Record<string, string>;
  /** Path answering 200 once the worker is ready. */
  readyPath: string;
  /** The loopback port to serve on (a restart reuses its predecessor's); default a free one. */
  port?: number;
}

/**
 * The relay under `wrangler dev`, from a snapshot: bundled once (`wrangler deploy --dry-run`) into a temporary
 * directory and served with `--no-bundle`, so edits to src/ during a run cannot reload the worker mid-measurement
 * (wrangler dev has no switch to stop watching). Secrets go through a temporary env file: never argv, never a
 * developer's `.dev.vars`.
 */
export function startRelayUnderWranglerDev(
  secrets: Record<string, string>,
  vars: Record<string, string> = {},
  port?: number,
): Promise<WranglerDev> {
  return startWranglerDev({
    prepare(scratch) {
      const outdir = join(scratch, "build");
      const build = spawnSync(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", outdir], {
        cwd: ROOT,
        env: wranglerEnv(scratch),
        encoding: "utf8",
      });
      if (build.status !== 0) {
        throw new Error(
          `bundling the worker failed (wrangler deploy --dry-run):\n${build.stdout}\n${build.stderr}`,
        );
      }
      // Settings beyond the secrets (BENCH_RELAY_ENV, e.g. RELAY_HUB=off) override wrangler.toml's [vars].
      const varArgs = Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
      return { cwd: ROOT, workerArgs: [join(outdir, "worker.js"), "--no-bundle", ...varArgs] };
    },
    secrets,
    readyPath: "/healthz",
    port,
  });
}

/**
 * The memory floor: a worker that only holds streamed responses open (no Redis, no parsing), under the same
 * `wrangler dev`. What one open stream costs workerd before the relay does anything.
 */
export function startFloorWorker(): Promise<WranglerDev> {
  const wranglerToml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const compatibilityDate = /compatibility_date\s*=\s*"([^"]+)"/.exec(wranglerToml)?.[1] ?? "2026-10-01";
  return startWranglerDev({
    prepare(scratch) {
      const dir = join(scratch, "floor");
      mkdirSync(dir);
      writeFileSync(join(dir, "floor.js"), FLOOR_WORKER);
      const workerArgs = ["floor.js", "--no-bundle", "--name", "relay-bench-floor"];
      return { cwd: dir, workerArgs: [...workerArgs, "--compatibility-date", compatibilityDate] };
    },
    readyPath: "/ready",
  });
}

/**
 * The Workers fan-out floor: bench/floors/durable-object (a Worker in front of one Durable Object that holds the
 * streams), copied into the run's scratch directory so the served files cannot change mid-run.
 */
export function startDurableObjectFloor(): Promise<WranglerDev> {
  return startWranglerDev({
    prepare(scratch) {
      const dir = join(scratch, "do-floor");
      cpSync(DO_FLOOR_DIR, dir, { recursive: true });
      return { cwd: dir, workerArgs: ["--config", "wrangler.toml"] };
    },
    readyPath: "/ready",
  });
}

const DO_FLOOR_DIR = join(ROOT, "bench/floors/durable-object");

const FLOOR_WORKER = `// Holds each response open with one comment written, like an idle SSE stream.
const open = new Set();
export default {
  fetch(request) {
    if (new URL(request.url).pathname === "/ready") return new Response("ok");
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    open.add(writer);
    writer.write(new TextEncoder().encode(": open\\n\\n"));
    request.signal.addEventListener("abort", () => { open.delete(writer); });
    return new Response(readable, { headers: { "content-type": "text/event-stream" } });
  },
};
`;

function wranglerEnv(scratch: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    NO_COLOR: "1",
    WRANGLER_LOG_PATH: join(scratch, "logs"),
  };
}

async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const scratch = mkdtempSync(join(tmpdir(), "relay-bench-"));
  let prepared: { cwd: string; workerArgs: string[] };
  try {
    prepared = options.prepare(scratch);
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  const args = [WRANGLER, "dev", ...prepared.workerArgs];
  if (options.secrets) {
    const envFile = join(scratch, "secrets.env");
    const lines = Object.entries(options.secrets).map(([key, value]) => `${key}=${JSON.stringify(value)}\n`);
    writeFileSync(envFile, lines.join(""), { mode: 0o600 });
    args.push("--env-file", envFile);
  }
  const port = options.port ?? (await freePort());
  args.push(
    ...["--ip", "127.0.0.1", "--port", String(port)],
    ...["--inspector-ip", "127.0.0.1", "--inspector-port", String(await freePort())],
    ...[
      "--persist-to",
      join(scratch, "state"),
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
    ],
  );
  const child = spawn(process.execPath, args, {
    cwd: prepared.cwd,
    env: wranglerEnv(scratch),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const workerd = (): WorkerdProcesses => {
    const pids = child.pid ? descendantsNamed(child.pid, /workerd/) : [];
    const isEntry = (pid: number) => commandLine(pid).includes(`entry=127.0.0.1:${port}`);
    return { entry: pids.filter(isEntry), worker: pids.filter((pid) => !isEntry(pid)) };
  };
  const stop = async () => {
    const { entry, worker } = workerd();
    await stopChild(child, 5000);
    // workerd exits with wrangler; make sure, by pid, that none is left behind.
    for (const pid of [...entry, ...worker]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    rmSync(scratch, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(`${url}${options.readyPath}`, child, "wrangler dev", READY_TIMEOUT_MS);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, pid: child.pid ?? 0, workerd, stop };
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
