import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { freePort } from "./free-port.ts";

const PROXY_MAIN = fileURLToPath(new URL("../../src/proxy/main.ts", import.meta.url));

export interface ProxyProcess {
  /** http://127.0.0.1:<port>; the same across restarts. */
  url: string;
  token: string;
  /** Stops the running proxy with `signal` (SIGKILL: a crash; SIGTERM: its graceful drain) and waits for it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** The proxy's `/metrics` value of `upstash_proxy_open_streams`. */
  openStreams(): Promise<number>;
  /** PID of the running proxy (undefined while stopped). */
  pid(): number | undefined;
}

/**
 * The REST proxy (src/proxy/main.ts, its real CLI) as a child process on a fixed loopback port, so a test can
 * kill it and start it again where clients expect it. Every process it starts is stopped by PID.
 */
export async function startProxyProcess(redisUrl: string, extraArgs: string[] = []): Promise<ProxyProcess> {
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  async function start() {
    if (child) throw new Error("the proxy is already running");
    const started = spawn(
      process.execPath,
      [
        "--experimental-strip-types",
        "--no-warnings",
        PROXY_MAIN,
        "--listen",
        `127.0.0.1:${port}`,
        "--redis",
        redisUrl,
        "--token",
        token,
        ...extraArgs,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = started;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the proxy did not start: ${output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("proxy listening on")) {
          clearTimeout(timer);
          resolve();
        }
      };
      started.stdout?.on("data", onData);
      started.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      started.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the proxy exited (${code}) before listening: ${output}`));
      });
    });
  }

  async function stop(signal: NodeJS.Signals = "SIGTERM") {
    const running = child;
    if (!running) return;
    child = undefined;
    if (running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    running.kill(signal);
    await exited;
  }

  await start();
  return {
    url,
    token,
    stop,
    start,
    pid: () => child?.pid,
    async openStreams() {
      const text = await (await fetch(`${url}/metrics`)).text();
      const match = /^upstash_proxy_open_streams (\d+)$/m.exec(text);
      if (!match) throw new Error("no upstash_proxy_open_streams in /metrics");
      return Number(match[1]);
    },
  };
}
