import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { freePort } from "./free-port.ts";

export interface RedisServer {
  url: string;
  port: number;
  /** Process id of the spawned redis-server. */
  pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after 2 s). Idempotent. */
  stop(): Promise<void>;
}

const INSTALL_HINT =
  "redis-server was not found on PATH. Install it (Debian/Ubuntu: `apt-get install -y redis-server`, " +
  "macOS: `brew install redis`) or set REDIS_SERVER_BIN to its path.";

/** Path of the redis-server binary, or a clear error with install hints. */
export function redisServerBinary(): string {
  const bin = process.env.REDIS_SERVER_BIN ?? "redis-server";
  const probe = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new Error(INSTALL_HINT);
  return bin;
}

/**
 * Spawns a private, non-persistent redis-server on a free loopback port and waits until it
 * accepts connections. Used by the vitest global setups, the Deno tests and `relay start`.
 * `args` come last, so they override the defaults (e.g. `--appendonly yes --dir <tmp>` for a test of persistence).
 */
export async function startRedisServer(
  options: { port?: number; args?: string[] } = {},
): Promise<RedisServer> {
  const bin = redisServerBinary();
  const port = options.port ?? (await freePort());
  const child = spawn(
    bin,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "yes",
      ...(options.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await waitForReady(child, port);
  let stopped: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? 0,
    stop() {
      stopped ??= stopChild(child);
      return stopped;
    },
  };
}

function waitForReady(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => fail(new Error(`redis-server on port ${port} did not start in 10 s:\n${output}`)),
      10_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) done();
    };
    const onExit = (code: number | null) =>
      fail(new Error(`redis-server exited with code ${code}:\n${output}`));
    function cleanup() {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      child.stdout?.resume();
      child.stderr?.resume();
    }
    function done() {
      cleanup();
      resolve();
    }
    function fail(error: Error) {
      cleanup();
      child.kill("SIGKILL");
      reject(error);
    }
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", onExit);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 2000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
