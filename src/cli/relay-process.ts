import { existsSync } from "node:fs";
import { join } from "node:path";
import { UnavailableError } from "./exit-codes.ts";
import { freePort } from "./free-port.ts";
import { FROM_BUILD, PACKAGE_ROOT } from "./package-root.ts";
import { type ServerProcess, startServerProcess } from "./server-process.ts";
import { startWranglerDev } from "./wrangler-dev.ts";

/**
 * What serves the relay as its own process: the Node entry, Deno (`deno serve`, or `deno run … --listen` as
 * `deno task start` does), or the Worker under `wrangler dev` (workerd).
 */
export type RelayProcessKind = "node" | "deno run" | "deno serve" | "workers";

export interface RelayProcessOptions {
  /** Every setting the relay gets, secrets included. The RELAY_* variables of our own environment do not reach it. */
  settings: Record<string, string>;
  /** Loopback port (a restart reuses its predecessor's); default a free one. */
  port?: number;
  /** Default 120 s for workers (wrangler's first build), 60 s otherwise. */
  readyTimeoutMs?: number;
  /** workers: the arguments after `wrangler dev` choosing the worker (default wrangler.toml, from source). */
  workerArgs?: string[];
  /** workers: wrangler's --log-level. */
  logLevel?: "warn" | "error";
  /** Its name in error messages (default e.g. "the relay on Node"). */
  name?: string;
  onLine?: (line: string) => void;
  checkpoint?: () => void;
  /** After SIGTERM, before SIGKILL to its process group; default 5 s. */
  killAfterMs?: number;
  failure?: (message: string) => Error;
}

export interface RelayProcess extends ServerProcess {
  port: number;
}

const NODE_ENTRY = FROM_BUILD ? "dist/node.mjs" : "src/entry/node.ts";
const DENO_BIN = join(PACKAGE_ROOT, "node_modules/.bin/deno");
/** The names wrangler.toml lists under [secrets] required: they go through wrangler's env file. */
const WORKER_SECRETS = new Set(["RELAY_JWT_SECRET", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"]);

const LABEL: Record<RelayProcessKind, string> = {
  workers: "the relay under wrangler dev (workerd)",
  "deno serve": "the relay on Deno (deno serve)",
  "deno run": "the relay on Deno (deno run)",
  node: "the relay on Node",
};

export function relayLabel(kind: RelayProcessKind): string {
  return LABEL[kind];
}

/** Starts the relay on `kind` at 127.0.0.1 and waits for /healthz; `stop()` stops it and its children by PID group. */
export async function startRelayProcess(
  kind: RelayProcessKind,
  options: RelayProcessOptions,
): Promise<RelayProcess> {
  assertRelayRuntimeAvailable(kind);
  const port = options.port ?? (await freePort());
  const common = {
    name: options.name ?? LABEL[kind],
    ...(options.onLine ? { onLine: options.onLine } : {}),
    ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
    ...(options.failure ? { failure: options.failure } : {}),
    killAfterMs: options.killAfterMs ?? 5000,
  };
  if (kind === "workers") {
    const secrets = Object.fromEntries(
      Object.entries(options.settings).filter(([name]) => WORKER_SECRETS.has(name)),
    );
    const vars = Object.fromEntries(
      Object.entries(options.settings).filter(([name]) => !WORKER_SECRETS.has(name)),
    );
    return startWranglerDev({
      ...common,
      cwd: PACKAGE_ROOT,
      ...(options.workerArgs ? { workerArgs: options.workerArgs } : {}),
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      secrets,
      vars,
      port,
      readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
    });
  }
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("RELAY_")) env[name] = value;
  const [command, args] = commandLine(kind, port);
  const server = await startServerProcess({
    ...common,
    command,
    args,
    cwd: PACKAGE_ROOT,
    env: { ...env, ...options.settings, PORT: String(port), HOST: "127.0.0.1", NO_COLOR: "1" },
    url: `http://127.0.0.1:${port}`,
    readyPath: "/healthz",
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
  });
  return { ...server, port };
}

function commandLine(kind: Exclude<RelayProcessKind, "workers">, port: number): [string, string[]] {
  if (kind === "node") return [process.execPath, [join(PACKAGE_ROOT, NODE_ENTRY)]];
  if (kind === "deno run")
    return [DENO_BIN, ["run", "--allow-net", "--allow-env", "--allow-read", "src/entry/deno.ts", "--listen"]];
  return [
    DENO_BIN,
    [
      "serve",
      ...["--allow-net", "--allow-env", "--allow-read"],
      ...["--host", "127.0.0.1", "--port", String(port)],
      "src/entry/deno.ts",
    ],
  ];
}

/** wrangler and deno are the repository's dev tools: an installed package ships only the Node runtime. */
export function assertRelayRuntimeAvailable(kind: RelayProcessKind): void {
  const needs =
    kind === "workers"
      ? ["node_modules/wrangler/bin/wrangler.js", "wrangler.toml", "src/entry/worker.ts"]
      : kind === "node"
        ? [NODE_ENTRY]
        : ["node_modules/.bin/deno", "src/entry/deno.ts"];
  const missing = needs.filter((path) => !existsSync(join(PACKAGE_ROOT, path)));
  if (missing.length === 0) return;
  const option = kind === "deno serve" || kind === "deno run" ? "deno" : kind;
  throw new UnavailableError(
    `--runtime ${option} needs ${missing.join(", ")} in ${PACKAGE_ROOT}, which ${FROM_BUILD ? "an installed package does not ship" : "is missing (run npm install)"}. ` +
      (kind === "node"
        ? "Reinstall the package."
        : "Use --runtime node, or run it from a clone of the repository after npm install."),
  );
}
