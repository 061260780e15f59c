import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../../src/cli/free-port.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { type ProxyProcess, startProxyProcess } from "../../helpers/proxy-process.ts";
import { type RedisServer, startRedisServer } from "../../helpers/redis-server.ts";
import { type RelayProcess, type RelayProcessKind, spawnRelayProcess } from "../relay/relay-process.ts";

/** A proxy command timeout short enough that a frozen Redis answers 504/503 quickly (docs/api.md). */
export const PROXY_COMMAND_TIMEOUT_MS = 1_000;
export const HEARTBEAT_MS = 1_000;

export interface FaultStackOptions {
  relay: RelayProcessKind;
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
  relayPid(): number;
  /** SIGKILL redis-server and start it again on the same port (with its AOF when `aof`). */
  restartRedis(pauseMs?: number): Promise<void>;
  /** Stops the proxy with `signal` and starts it again on the same port after `pauseMs`. */
  restartProxy(signal: NodeJS.Signals, pauseMs?: number): Promise<void>;
  /**
   * Stops the relay with `signal`, waits for its exit, then starts it again on the same port. Resolves with how the
   * stopped one exited, how long that took and what it logged.
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

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  let relay: RelayProcess | undefined;
  try {
    proxy = await startProxyProcess(redis.url, ["--command-timeout-ms", String(PROXY_COMMAND_TIMEOUT_MS)]);
    const settings = {
      UPSTASH_REDIS_REST_URL: proxy.url,
      UPSTASH_REDIS_REST_TOKEN: proxy.token,
      RELAY_JWT_SECRET: TEST_JWT_SECRET,
      RELAY_HEARTBEAT_MS: String(HEARTBEAT_MS),
    };
    started.push(proxy.pid() ?? 0);
    relay = await spawnRelayProcess(options.relay, settings);
    started.push(relay.pid);
    const relayPort = relay.port;
    const stack: FaultStack = {
      relayUrl: relay.url,
      proxy,
      redisPid: () => redis.pid,
      relayPid: () => relay?.pid ?? 0,
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
        running.child.kill(signal);
        const exit = await running.exited;
        const tookMs = Date.now() - signalledAt;
        await pause(pauseMs);
        relay = await spawnRelayProcess(options.relay, settings, relayPort);
        started.push(relay.pid);
        return { ...exit, tookMs, output: running.output() };
      },
      pids: () => [...started],
      async stop() {
        relay?.kill();
        await relay?.exited;
        await proxy?.stop("SIGKILL");
        await redis.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (error) {
    relay?.kill();
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
