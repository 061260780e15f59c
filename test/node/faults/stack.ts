import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRelayUnderWranglerDev } from "../../../bench/relay/wrangler-dev.ts";
import { freePort } from "../../../src/cli/free-port.ts";
import { type RelayProcessKind, startRelayProcess } from "../../../src/cli/relay-process.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { type ProxyProcess, startProxyProcess } from "../../helpers/proxy-process.ts";
import { type RedisServer, startRedisServer } from "../../helpers/redis-server.ts";
import { pause } from "../../helpers/until.ts";

/** A proxy command timeout short enough that a frozen Redis answers 504/503 quickly (docs/api.md). */
export const PROXY_COMMAND_TIMEOUT_MS = 1_000;
export const HEARTBEAT_MS = 1_000;

/** The relay's own processes (Node, Deno), or the Worker under `wrangler dev` (loopback, local mode). */
export type FaultRuntime = RelayProcessKind;

export interface FaultStackOptions {
  relay: FaultRuntime;
  /** Redis keeps an append-only file fsynced on every write, so a restart loses nothing acknowledged. */
  aof?: boolean;
}

/**
 * redis-server, the REST proxy and the relay, each its own process on a fixed loopback port, each restartable on
 * that port. Every PID it ever started is remembered, so a test can check none is left.
 */
export interface FaultStack {
  relayUrl: string;
  proxy: ProxyProcess;
  redisPid(): number;
  /** SIGKILL redis-server and start it again on the same port (with its AOF when `aof`). */
  restartRedis(pauseMs?: number): Promise<void>;
  /** Stops the proxy with `signal` and starts it again on the same port after `pauseMs`. */
  restartProxy(signal: NodeJS.Signals, pauseMs?: number): Promise<void>;
  /**
   * Stops the relay with `signal`, waits for its exit, then starts it again on the same port. Resolves with how the
   * stopped one exited, how long that took and what it logged. Workers: wrangler dev gets the signal (its workerd
   * goes with it) and a new `wrangler dev` serves the same port.
   */
  restartRelay(signal: NodeJS.Signals, pauseMs?: number): Promise<RelayExit>;
  /** Every PID started (redis, proxy, relay), for the "nothing left" check. */
  pids(): number[];
  stop(): Promise<void>;
}

export interface RelayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the signal to the exit. */
  tookMs: number;
  output: string;
}

/** One running relay, whatever runs it: the URL it serves, the PIDs it started, how to stop it. */
interface RunningRelay {
  url: string;
  port: number;
  pids(): number[];
  /** Sends `signal` and resolves once it has exited. */
  stop(signal: NodeJS.Signals): Promise<Omit<RelayExit, "tookMs">>;
}

/**
 * Node and Deno through the shared starter (src/cli/relay-process.ts), as `relay start` runs them. Workers: the
 * benchmark's snapshot of the Worker (bundled once, served with --no-bundle, itself started by the shared
 * src/cli/wrangler-dev.ts), so an edit to src/ during the run cannot reload it mid-fault; wrangler dev gets the
 * signal and its workerd processes are remembered by PID for the "nothing left" check.
 */
async function startRelay(runtime: FaultRuntime, settings: Record<string, string>, port?: number) {
  if (runtime === "workers") {
    const { RELAY_HEARTBEAT_MS: heartbeatMs = String(HEARTBEAT_MS), ...secrets } = settings;
    const dev = await startRelayUnderWranglerDev(secrets, { RELAY_HEARTBEAT_MS: heartbeatMs }, port);
    const started = [dev.pid, ...dev.workerd().entry, ...dev.workerd().worker];
    return {
      url: dev.url,
      port: dev.port,
      pids: () => started,
      async stop(signal: NodeJS.Signals) {
        if (signal === "SIGKILL") for (const pid of started.slice(1)) kill(pid);
        await dev.stop();
        await reaped(started);
        return { code: null, signal, output: "" };
      },
    } satisfies RunningRelay;
  }
  const relay = await startRelayProcess(runtime, {
    settings,
    ...(port ? { port } : {}),
    // Longer than the relay's own drain (RELAY_SHUTDOWN_MS, 5 s), so a SIGTERM test sees the relay's own exit.
    killAfterMs: 15_000,
  });
  return {
    url: relay.url,
    port: relay.port,
    pids: () => [relay.pid],
    async stop(signal: NodeJS.Signals) {
      return { ...(await relay.stop(signal)), output: relay.output() };
    },
  } satisfies RunningRelay;
}

/** workerd is wrangler's grandchild: once orphaned it is reaped by init a moment after wrangler exits. */
async function reaped(pids: number[]): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (pids.some(isAlive) && Date.now() < deadline) await pause(50);
}

function kill(pid: number) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

export async function startFaultStack(options: FaultStackOptions): Promise<FaultStack> {
  const dataDir = mkdtempSync(join(tmpdir(), "relay-faults-"));
  const redisArgs = options.aof
    ? ["--appendonly", "yes", "--appendfsync", "always", "--dir", dataDir]
    : ["--dir", dataDir];
  const redisPort = await freePort();
  const started: number[] = [];
  let redis: RedisServer = await startRedisServer({ port: redisPort, args: redisArgs });
  started.push(redis.pid);
  let proxy: ProxyProcess | undefined;
  let relay: RunningRelay | undefined;
  try {
    proxy = await startProxyProcess(redis.url, ["--command-timeout-ms", String(PROXY_COMMAND_TIMEOUT_MS)]);
    const settings = {
      UPSTASH_REDIS_REST_URL: proxy.url,
      UPSTASH_REDIS_REST_TOKEN: proxy.token,
      RELAY_JWT_SECRET: TEST_JWT_SECRET,
      RELAY_HEARTBEAT_MS: String(HEARTBEAT_MS),
    };
    started.push(proxy.pid() ?? 0);
    relay = await startRelay(options.relay, settings);
    started.push(...relay.pids());
    const relayPort = relay.port;
    const stack: FaultStack = {
      relayUrl: relay.url,
      proxy,
      redisPid: () => redis.pid,
      async restartRedis(pauseMs = 0) {
        process.kill(redis.pid, "SIGKILL");
        await redis.stop();
        await pause(pauseMs);
        redis = await startRedisServer({ port: redisPort, args: redisArgs });
        started.push(redis.pid);
      },
      async restartProxy(signal, pauseMs = 0) {
        await proxy?.stop(signal);
        await pause(pauseMs);
        await proxy?.start();
        started.push(proxy?.pid() ?? 0);
      },
      async restartRelay(signal, pauseMs = 0) {
        const running = relay;
        if (!running) throw new Error("no relay to restart");
        const signalledAt = Date.now();
        const exit = await running.stop(signal);
        const tookMs = Date.now() - signalledAt;
        await pause(pauseMs);
        relay = await startRelay(options.relay, settings, relayPort);
        started.push(...relay.pids());
        return { ...exit, tookMs };
      },
      pids: () => [...started],
      async stop() {
        await relay?.stop("SIGKILL");
        await proxy?.stop("SIGKILL");
        await redis.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (error) {
    await relay?.stop("SIGKILL");
    await proxy?.stop("SIGKILL");
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Whether a process with this PID still exists (a zombie counts: its parent has not reaped it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
