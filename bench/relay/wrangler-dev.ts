import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startWranglerDev as startShared, WRANGLER_BIN } from "../../src/cli/wrangler-dev.ts";
import { descendantsNamed } from "./proc.ts";

const ROOT = resolve(import.meta.dirname, "../..");

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
  vars?: Record<string, string>;
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
      const build = spawnSync(process.execPath, [WRANGLER_BIN, "deploy", "--dry-run", "--outdir", outdir], {
        cwd: ROOT,
        env: {
          ...process.env,
          WRANGLER_SEND_METRICS: "false",
          NO_COLOR: "1",
          WRANGLER_LOG_PATH: join(scratch, "logs"),
        },
        encoding: "utf8",
      });
      if (build.status !== 0) {
        throw new Error(
          `bundling the worker failed (wrangler deploy --dry-run):\n${build.stdout}\n${build.stderr}`,
        );
      }
      // --config as well: given only a script, wrangler dev ignores wrangler.toml, so the Worker would run without
      // its [vars] and without the Durable Object binding (the direct path, not the hub).
      return {
        cwd: ROOT,
        workerArgs: ["--config", join(ROOT, "wrangler.toml"), join(outdir, "worker.js"), "--no-bundle"],
      };
    },
    secrets,
    // Settings beyond the secrets (BENCH_RELAY_ENV, e.g. RELAY_HUB=off) override wrangler.toml's [vars].
    vars,
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

/**
 * The shared `wrangler dev` starter (src/cli/wrangler-dev.ts) on a worker the benchmark prepared in its own
 * scratch directory (removed on stop), plus which workerd processes are whose, for the CPU and memory columns.
 */
async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const scratch = mkdtempSync(join(tmpdir(), "relay-bench-"));
  const removeScratch = () => rmSync(scratch, { recursive: true, force: true });
  let dev: Awaited<ReturnType<typeof startShared>>;
  try {
    const prepared = options.prepare(scratch);
    dev = await startShared({
      cwd: prepared.cwd,
      workerArgs: prepared.workerArgs,
      ...(options.secrets ? { secrets: options.secrets } : {}),
      ...(options.vars ? { vars: options.vars } : {}),
      ...(options.port ? { port: options.port } : {}),
      readyPath: options.readyPath,
      logLevel: "warn",
    });
  } catch (error) {
    removeScratch();
    throw error;
  }
  const started = dev;
  const workerd = (): WorkerdProcesses => {
    const pids = descendantsNamed(started.pid, /workerd/);
    const isEntry = (pid: number) => commandLine(pid).includes(`entry=127.0.0.1:${started.port}`);
    return { entry: pids.filter(isEntry), worker: pids.filter((pid) => !isEntry(pid)) };
  };
  return {
    url: started.url,
    port: started.port,
    pid: started.pid,
    workerd,
    async stop() {
      await started.stop();
      removeScratch();
    },
  };
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
