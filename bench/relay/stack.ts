import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { descendantsNamed } from "./process-memory.ts";
import type { StackAddress } from "./stack-child.ts";

const STACK_CHILD = join(import.meta.dirname, "stack-child.ts");
/** wrangler's first build is slow on two shared cores. */
const START_TIMEOUT_MS = 150_000;

/** The whole path under test: redis-server, the REST proxy (own process) and the relay under `wrangler dev`. */
export interface RelayBenchStack {
  relayUrl: string;
  redisUrl: string;
  /** `Authorization` header value: the stack's dev token (scope `admin`); auth stays on. */
  authorization: string;
  /** The process hosting the REST proxy (and the idle stack supervisor). */
  proxyPid: number;
  redisPid: number;
  /** The workerd processes of `wrangler dev` (its descendants; there may be more than one). */
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
  const started = Date.now();
  const child = spawn(process.execPath, ["--no-warnings", STACK_CHILD], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let address: StackAddress;
  let redisPid: number;
  try {
    address = await firstJsonLine<StackAddress>(child, "the local stack", START_TIMEOUT_MS);
    redisPid = await redisProcessId(address.redisUrl);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  log(
    `stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s: relay ${address.relayUrl} under wrangler dev`,
  );
  return {
    relayUrl: address.relayUrl,
    redisUrl: address.redisUrl,
    authorization: `Bearer ${address.devToken}`,
    proxyPid: child.pid ?? 0,
    redisPid,
    workerdPids: () => descendantsNamed(address.relayPid, /workerd/),
    stop: () => stopChild(child),
  };
}

/** redis-server's pid, from the server itself. */
async function redisProcessId(redisUrl: string): Promise<number> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info("server");
    return Number(/process_id:(\d+)/.exec(info)?.[1] ?? 0);
  } finally {
    client.disconnect();
  }
}

function firstJsonLine<T>(child: ChildProcess, name: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let output = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-6000);
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${timeoutMs / 1000} s:\n${output}`)),
      timeoutMs,
    );
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${name} printed ${JSON.stringify(line)} instead of its address:\n${output}`));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code}:\n${output}`));
    });
  });
}

/** SIGTERM (the child stops wrangler, the proxy and redis-server), SIGKILL after 15 s. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(kill);
      done();
    });
    child.kill("SIGTERM");
  });
}
