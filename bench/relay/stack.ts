import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { sign } from "hono/jwt";
import { freePort } from "../../test/helpers/free-port.ts";
import { type RedisServer, startRedisServer } from "../../test/helpers/redis-server.ts";
import { descendantsNamed } from "./process-memory.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const PROXY_CHILD = join(import.meta.dirname, "proxy-child.ts");

/** The whole path under test: redis-server, the REST proxy (own process) and the relay under `wrangler dev`. */
export interface RelayBenchStack {
  relayUrl: string;
  redisUrl: string;
  /** `Authorization` header value for a token allowed to publish and subscribe everywhere (auth stays on). */
  authorization: string;
  proxyPid: number;
  redisPid: number;
  /** The workerd processes wrangler runs (found as its descendants; wrangler may run more than one). */
  workerdPids(): number[];
  stop(): Promise<void>;
}

/** Node 22.12+ is what wrangler needs; `npm run bench` provides it through node_modules/.bin/node. */
function assertNodeVersion() {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    throw new Error(
      `the relay benchmark needs Node >= 22.12 for wrangler, this is ${process.version}: run it with \`npm run bench\``,
    );
  }
}

export async function startRelayBenchStack(log: (line: string) => void): Promise<RelayBenchStack> {
  assertNodeVersion();
  const cleanups: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const redisPid = await pidOfPort(redis);

    const restToken = randomBytes(16).toString("hex");
    const proxy = spawn(
      process.execPath,
      ["--experimental-strip-types", "--no-warnings", PROXY_CHILD, redis.url, restToken],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    cleanups.push(() => stopChild(proxy));
    const proxyUrl = await firstJsonLine<{ url: string }>(proxy, "proxy", 20_000);

    const secret = randomBytes(32).toString("hex");
    const relay = await startWranglerDev(
      { UPSTASH_REDIS_REST_URL: proxyUrl.url, UPSTASH_REDIS_REST_TOKEN: restToken, RELAY_JWT_SECRET: secret },
      log,
    );
    cleanups.push(() => relay.stop());

    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ scope: "publish:* subscribe:*", iat: now, exp: now + 3600 }, secret, "HS256");
    return {
      relayUrl: relay.url,
      redisUrl: redis.url,
      authorization: `Bearer ${token}`,
      proxyPid: proxy.pid ?? 0,
      redisPid,
      workerdPids: relay.workerdPids,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** redis-server's pid: the helper does not expose it, so ask the server itself. */
async function pidOfPort(redis: RedisServer): Promise<number> {
  const { Redis } = await import("ioredis");
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info("server");
    return Number(/process_id:(\d+)/.exec(info)?.[1] ?? 0);
  } finally {
    client.disconnect();
  }
}

interface WranglerDev {
  url: string;
  workerdPids(): number[];
  stop(): Promise<void>;
}

/**
 * `wrangler dev` on a free loopback port with the relay's secrets passed through a temporary env file
 * (so a developer's `.dev.vars` never leaks into the figures) and its own persistence directory.
 */
async function startWranglerDev(
  secrets: Record<string, string>,
  log: (line: string) => void,
): Promise<WranglerDev> {
  const scratch = mkdtempSync(join(tmpdir(), "relay-bench-"));
  const envFile = join(scratch, "bench.env");
  writeFileSync(
    envFile,
    Object.entries(secrets)
      .map(([key, value]) => `${key}=${value}\n`)
      .join(""),
  );
  const port = await freePort();
  const inspectorPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      WRANGLER,
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
      "--persist-to",
      join(scratch, "state"),
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
    ],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...secrets, WRANGLER_SEND_METRICS: "false", CI: "1", NO_COLOR: "1" },
    },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const stop = async () => {
    const workers = child.pid ? descendantsNamed(child.pid, /workerd/) : [];
    await stopChild(child);
    // workerd exits with wrangler; make sure, by pid, that none is left behind.
    for (const pid of workers) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    rmSync(scratch, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  try {
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`wrangler dev exited with code ${child.exitCode}:\n${output}`);
      if (Date.now() - started > 90_000)
        throw new Error(`wrangler dev did not answer ${url}/healthz within 90 s:\n${output}`);
      const health = await fetch(`${url}/healthz`).catch(() => undefined);
      if (health?.ok) break;
      await health?.body?.cancel();
      await new Promise((done) => setTimeout(done, 250));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  log(`wrangler dev ready at ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return {
    url,
    workerdPids: () => (child.pid ? descendantsNamed(child.pid, /workerd/) : []),
    stop,
  };
}

function firstJsonLine<T>(child: ChildProcess, name: string, timeoutMs: number): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    let errors = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      errors = (errors + chunk.toString()).slice(-4000);
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${errors}`)),
      timeoutMs,
    );
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        resolvePromise(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${name} printed ${JSON.stringify(line)} instead of its address:\n${errors}`));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code}:\n${errors}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(kill);
      done();
    });
    child.kill("SIGTERM");
  });
}
