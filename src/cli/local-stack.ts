import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createProxy } from "../proxy/index.ts";
import { DEFAULT_SHUTDOWN_MS } from "../relay/config.ts";
import { DEV_SECRET_FILE, devSecret } from "./dev-secret.ts";
import { UnavailableError } from "./exit-codes.ts";
import { freePort } from "./free-port.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";
import { mintToken } from "./token.ts";

/** Which entry serves the relay: `wrangler dev` (workerd), `deno serve`, or Node. */
export type RelayRuntime = "workers" | "deno" | "node";

export interface LocalStackOptions {
  runtime: RelayRuntime;
  /** Relay port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Use this Redis instead of spawning redis-server. */
  redisUrl?: string;
  /** The environment the `RELAY_*` settings come from. */
  env: NodeJS.ProcessEnv;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Output of the relay process, line by line (stderr), or undefined to keep it quiet. */
  relayOutput?: (line: string) => void;
  /** How long the relay may take to answer /healthz (default 120 s: wrangler's first build is slow on 2 cores). */
  readyTimeoutMs?: number;
  /** Aborting during start-up stops what already runs and rejects with StartInterrupted. */
  signal?: AbortSignal;
  /** Where the generated dev secret is kept when RELAY_JWT_SECRET is unset (default ./.relay-dev-secret). */
  devSecretFile?: string;
}

/** Start-up was interrupted (Ctrl-C) through `signal`; everything started so far was stopped. */
export class StartInterrupted extends Error {
  override name = "StartInterrupted";
}

export interface LocalStack {
  relayUrl: string;
  proxyUrl: string;
  proxyToken: string;
  redisUrl: string;
  /** An `admin` token for the relay's secret, valid for 24 h. */
  devToken: string;
  /** PIDs of the processes the stack spawned (redis-server when spawned, the relay process). */
  pids: number[];
  /** Resolves when the relay process exits by itself (a crash, or a signal it got directly). */
  relayExited: Promise<number | null>;
  /** Stops everything, relay first, then the proxy, then redis-server. Idempotent. */
  stop(): Promise<void>;
}

/** wrangler dev offline: it cannot fetch the Request.cf object; harmless, and a stack trace each time. */
const OFFLINE_NOISE = /Request\.cf|ENOTFOUND workers\.cloudflare\.com|^\s+at GetAddrInfoReqWrap/;
/** Bundled into dist/cli.mjs (an installed package) this module runs from dist/, not src/cli/ (a clone). */
const FROM_BUILD = import.meta.url.endsWith("/dist/cli.mjs");
const PACKAGE_ROOT = fileURLToPath(new URL(FROM_BUILD ? "../" : "../../", import.meta.url));
const NODE_ENTRY = FROM_BUILD ? "dist/node.mjs" : "src/entry/node.ts";
const DEV_TOKEN_TTL_S = 24 * 3600;
/** On top of the relay's own bound, before its process group gets SIGKILL (wrangler and workerd do not drain). */
const RELAY_KILL_MARGIN_MS = 2000;
/** The proxy stops after the relay, so no client is left on it: a short grace is plenty. */
const PROXY_SHUTDOWN_GRACE_MS = 1000;
/** The names wrangler.toml lists under [secrets] required. */
const WORKER_SECRETS = new Set(["RELAY_JWT_SECRET", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"]);

/** Brings up redis-server (unless `redisUrl`), the REST proxy in-process and the relay; see docs/local-stack.md. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  };
  try {
    return await bringUp(options, cleanups, stopAll);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function bringUp(
  options: LocalStackOptions,
  cleanups: (() => Promise<void>)[],
  stopAll: () => Promise<void>,
): Promise<LocalStack> {
  const { log } = options;
  const checkpoint = () => {
    if (options.signal?.aborted)
      throw new StartInterrupted(
        `interrupted (${String(options.signal.reason)}) while starting; stopped what had started`,
      );
  };
  assertRuntimeAvailable(options.runtime);
  const port = options.port === 0 ? await freePort() : options.port;
  await assertPortFree(port);

  let redis: RedisServer | undefined;
  let redisUrl = options.redisUrl;
  const pids: number[] = [];
  if (redisUrl) {
    log(`redis        using REDIS_URL ${redactUrl(redisUrl)}`);
  } else {
    log("redis        starting redis-server…");
    try {
      redis = await startRedisServer();
    } catch (error) {
      throw new UnavailableError(
        `${error instanceof Error ? error.message : String(error)}\nOr point the stack at a Redis you have: REDIS_URL=redis://host:6379 npm start`,
      );
    }
    const started = redis;
    cleanups.push(() => started.stop());
    redisUrl = redis.url;
    pids.push(redis.pid);
    log(`redis        ready at ${redis.url} (pid ${redis.pid})`);
  }

  checkpoint();
  log("proxy        starting the Upstash-compatible REST proxy…");
  const proxyToken = randomBytes(24).toString("hex");
  const proxy = createProxy({ redisUrl, token: proxyToken, shutdownGraceMs: PROXY_SHUTDOWN_GRACE_MS });
  const proxyAddress = await proxy.listen({ host: "127.0.0.1", port: 0 });
  cleanups.push(() => proxy.close());
  log(`proxy        ready at ${proxyAddress.url}`);

  let jwtSecret = options.env.RELAY_JWT_SECRET;
  if (!jwtSecret) {
    const file = options.devSecretFile ?? join(process.cwd(), DEV_SECRET_FILE);
    const dev = await devSecret(file);
    jwtSecret = dev.secret;
    log(
      dev.created
        ? `auth         RELAY_JWT_SECRET is unset: generated a dev secret and saved it in ${file} (tokens survive restarts; delete the file to rotate it)`
        : `auth         RELAY_JWT_SECRET is unset: using the dev secret saved in ${file}`,
    );
  }
  const relayEnv: Record<string, string> = {
    ...relaySettings(options.env),
    RELAY_JWT_SECRET: jwtSecret,
    UPSTASH_REDIS_REST_URL: proxyAddress.url,
    UPSTASH_REDIS_REST_TOKEN: proxyToken,
  };

  checkpoint();
  const scratch = await mkdtemp(join(tmpdir(), "relay-start-"));
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));
  log(`relay        starting ${RUNTIME_LABEL[options.runtime]} on 127.0.0.1:${port}…`);
  const child = await spawnRelay(options.runtime, port, relayEnv, scratch);
  if (child.pid === undefined)
    throw new UnavailableError(`could not start ${RUNTIME_LABEL[options.runtime]}`);
  const relayPid = child.pid;
  pids.push(relayPid);
  const recent: string[] = [];
  forwardLines(child, (line) => {
    if (OFFLINE_NOISE.test(line)) return;
    recent.push(line);
    if (recent.length > 40) recent.shift();
    options.relayOutput?.(line);
  });
  const relayExited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const killAfterMs = relayShutdownMs(relayEnv) + RELAY_KILL_MARGIN_MS;
  cleanups.push(() => stopProcessGroup(child, killAfterMs));

  const relayUrl = `http://127.0.0.1:${port}`;
  await waitForHealth(
    relayUrl,
    relayExited,
    options.readyTimeoutMs ?? 120_000,
    () => recent.join("\n"),
    checkpoint,
  );
  log(`relay        ready at ${relayUrl} (pid ${relayPid})`);

  const devToken = await mintToken({
    secret: jwtSecret,
    scope: "admin",
    ttlSeconds: DEV_TOKEN_TTL_S,
    subject: "relay-start",
  });
  let stopping: Promise<void> | undefined;
  return {
    relayUrl,
    proxyUrl: proxyAddress.url,
    proxyToken,
    redisUrl,
    devToken,
    pids,
    relayExited,
    stop() {
      stopping ??= stopAll();
      return stopping;
    },
  };
}

const RUNTIME_LABEL: Record<RelayRuntime, string> = {
  workers: "the relay under wrangler dev (workerd)",
  deno: "the relay on Deno (deno serve)",
  node: "the relay on Node",
};

/** Every RELAY_* variable of the environment reaches the relay (docs/local-stack.md). */
export function relaySettings(env: NodeJS.ProcessEnv): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith("RELAY_") && value !== undefined && name !== "RELAY_URL" && name !== "RELAY_TOKEN") {
      settings[name] = value;
    }
  }
  return settings;
}

async function spawnRelay(
  runtime: RelayRuntime,
  port: number,
  relayEnv: Record<string, string>,
  scratch: string,
): Promise<ChildProcess> {
  // Own process group (detached): Ctrl-C reaches us, and we stop the relay and its children (workerd) together.
  const common = {
    cwd: PACKAGE_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"] as ("ignore" | "pipe")[],
  };
  const baseEnv = { ...process.env, NO_COLOR: "1" };
  if (runtime === "workers") {
    // wrangler reads only the secrets wrangler.toml declares from an env file; those go there (not argv, which
    // `ps` shows, and not the user's .dev.vars). Every other setting goes as --var NAME:VALUE.
    const secrets = Object.fromEntries(Object.entries(relayEnv).filter(([name]) => WORKER_SECRETS.has(name)));
    const vars = Object.entries(relayEnv).filter(([name]) => !WORKER_SECRETS.has(name));
    const envFile = join(scratch, "relay.env");
    await writeFile(envFile, dotenv(secrets), { mode: 0o600 });
    const inspectorPort = await freePort();
    return spawn(
      process.execPath,
      [
        join(PACKAGE_ROOT, "node_modules/wrangler/bin/wrangler.js"),
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(inspectorPort),
        "--inspector-ip",
        "127.0.0.1",
        "--env-file",
        envFile,
        ...vars.flatMap(([name, value]) => ["--var", `${name}:${value}`]),
        "--persist-to",
        join(scratch, "state"),
        "--show-interactive-dev-session=false",
      ],
      {
        ...common,
        env: { ...baseEnv, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG_PATH: join(scratch, "logs") },
      },
    );
  }
  const env = { ...baseEnv, ...relayEnv, PORT: String(port), HOST: "127.0.0.1" };
  if (runtime === "deno") {
    return spawn(
      join(PACKAGE_ROOT, "node_modules/.bin/deno"),
      [
        "serve",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "src/entry/deno.ts",
      ],
      { ...common, env },
    );
  }
  return spawn(process.execPath, [join(PACKAGE_ROOT, NODE_ENTRY)], { ...common, env });
}

/** wrangler and deno are the repository's dev tools: an installed package ships only the Node runtime. */
function assertRuntimeAvailable(runtime: RelayRuntime): void {
  const needs = {
    workers: ["node_modules/wrangler/bin/wrangler.js", "wrangler.toml", "src/entry/worker.ts"],
    deno: ["node_modules/.bin/deno", "src/entry/deno.ts"],
    node: [NODE_ENTRY],
  }[runtime];
  const missing = needs.filter((path) => !existsSync(join(PACKAGE_ROOT, path)));
  if (missing.length === 0) return;
  throw new UnavailableError(
    `--runtime ${runtime} needs ${missing.join(", ")} in ${PACKAGE_ROOT}, which ${FROM_BUILD ? "an installed package does not ship" : "is missing (run npm install)"}. ` +
      (runtime === "node"
        ? "Reinstall the package."
        : "Use --runtime node, or run it from a clone of the repository after npm install."),
  );
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

function forwardLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let partial = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n/);
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onLine(line);
    });
  }
}

async function waitForHealth(
  url: string,
  exited: Promise<number | null>,
  timeoutMs: number,
  output: () => string,
  checkpoint: () => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < deadline) {
    checkpoint();
    if (exitCode !== undefined) {
      throw new UnavailableError(
        `the relay exited (code ${exitCode}) before it answered /healthz. Its last output:\n${output()}`,
      );
    }
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new UnavailableError(
    `the relay did not answer ${url}/healthz within ${timeoutMs / 1000} s. Its last output:\n${output()}`,
  );
}

/** RELAY_SHUTDOWN_MS as the relay will read it (a bad value stops the relay at start-up, before this matters). */
function relayShutdownMs(relayEnv: Record<string, string>): number {
  const value = relayEnv.RELAY_SHUTDOWN_MS?.trim();
  return value && /^\d+$/.test(value) ? Number(value) : DEFAULT_SHUTDOWN_MS;
}

/**
 * SIGTERM to the child's process group (the relay drains: docs/sse.md#shutdown), SIGKILL after `killAfterMs`;
 * resolves once the child has exited.
 */
function stopProcessGroup(child: ChildProcess, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    killGroup(child.pid, "SIGKILL"); // Grandchildren (workerd) may outlive a crashed wrangler.
    return Promise.resolve();
  }
  const pid = child.pid;
  return new Promise((resolve) => {
    const force = setTimeout(() => killGroup(pid, "SIGKILL"), killAfterMs);
    child.once("exit", () => {
      clearTimeout(force);
      killGroup(pid, "SIGKILL");
      resolve();
    });
    killGroup(pid, "SIGTERM");
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", () =>
      reject(
        new UnavailableError(
          `port ${port} on 127.0.0.1 is in use: stop what holds it, or choose another with PORT=<port> (or --port)`,
        ),
      ),
    );
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
