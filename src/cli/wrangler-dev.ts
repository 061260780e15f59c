import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";
import { PACKAGE_ROOT } from "./package-root.ts";
import { type ProcessExit, type ServerProcess, startServerProcess } from "./server-process.ts";

export const WRANGLER_BIN = join(PACKAGE_ROOT, "node_modules/wrangler/bin/wrangler.js");

export interface WranglerDevOptions {
  /** Where wrangler runs (its wrangler.toml, unless `workerArgs` name another worker). */
  cwd: string;
  /** Arguments after `wrangler dev` that choose the worker (script, --config, --no-bundle, …). */
  workerArgs?: string[];
  /** Go through an env file in a private temporary directory: never argv (`ps` shows it), never `.dev.vars`. */
  secrets?: Record<string, string>;
  /** Plain settings, as `--var NAME:VALUE` (they override wrangler.toml's [vars]). */
  vars?: Record<string, string>;
  /** Loopback port (a restart reuses its predecessor's); default a free one. */
  port?: number;
  /** Path answering 2xx once the worker is ready (default /healthz). */
  readyPath?: string;
  /** Default 120 s: wrangler's first build is slow on 2 cores. */
  readyTimeoutMs?: number;
  logLevel?: "debug" | "info" | "log" | "warn" | "error" | "none";
  /** Its name in error messages (default "wrangler dev"). */
  name?: string;
  /** Its output, line by line, without wrangler's offline noise. */
  onLine?: (line: string) => void;
  checkpoint?: () => void;
  /** After SIGTERM, before SIGKILL (wrangler and workerd do not drain); default 5 s. */
  killAfterMs?: number;
  failure?: (message: string) => Error;
}

export interface WranglerDev extends ServerProcess {
  port: number;
}

/** wrangler dev offline: it cannot fetch the Request.cf object; harmless, and a stack trace each time. */
const OFFLINE_NOISE = /Request\.cf|ENOTFOUND workers\.cloudflare\.com|^\s+at GetAddrInfoReqWrap/;

/**
 * A worker under `wrangler dev` (workerd) on 127.0.0.1, the one starter `relay start --runtime workers`, the tests
 * and the benchmarks share. Its state, logs and env file live in a temporary directory removed on stop.
 */
export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const scratch = await mkdtemp(join(tmpdir(), "relay-wrangler-"));
  const removeScratch = () => rm(scratch, { recursive: true, force: true });
  try {
    const port = options.port ?? (await freePort());
    const args = [WRANGLER_BIN, "dev", ...(options.workerArgs ?? [])];
    if (options.secrets && Object.keys(options.secrets).length > 0) {
      const envFile = join(scratch, "secrets.env");
      await writeFile(envFile, dotenv(options.secrets), { mode: 0o600 });
      args.push("--env-file", envFile);
    }
    for (const [name, value] of Object.entries(options.vars ?? {})) args.push("--var", `${name}:${value}`);
    args.push(
      ...["--ip", "127.0.0.1", "--port", String(port)],
      ...["--inspector-ip", "127.0.0.1", "--inspector-port", String(await freePort())],
      ...["--persist-to", join(scratch, "state"), "--show-interactive-dev-session=false"],
      ...(options.logLevel ? ["--log-level", options.logLevel] : []),
    );
    const server = await startServerProcess({
      name: options.name ?? "wrangler dev",
      command: process.execPath,
      args,
      cwd: options.cwd,
      env: {
        ...process.env,
        NO_COLOR: "1",
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_LOG_PATH: join(scratch, "logs"),
      },
      url: `http://127.0.0.1:${port}`,
      readyPath: options.readyPath ?? "/healthz",
      readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
      noise: OFFLINE_NOISE,
      killAfterMs: options.killAfterMs ?? 5000,
      ...(options.onLine ? { onLine: options.onLine } : {}),
      ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
      ...(options.failure ? { failure: options.failure } : {}),
    });
    let stopping: Promise<ProcessExit> | undefined;
    return {
      ...server,
      port,
      stop(signal) {
        stopping ??= server.stop(signal).then(async (exit) => {
          await removeScratch();
          return exit;
        });
        return stopping;
      },
    };
  } catch (error) {
    await removeScratch();
    throw error;
  }
}

/** KEY="value" lines, double-quoted with escapes, which dotenv (and wrangler's --env-file) read back exactly. */
function dotenv(values: Record<string, string>): string {
  return Object.entries(values)
    .map(
      ([name, value]) =>
        `${name}="${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`,
    )
    .join("\n");
}
