import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { killNow, printed } from "./child.ts";

const PROXY_MAIN = join(import.meta.dirname, "../../../src/proxy/main.ts");

/** Proxy timings for the suite: short enough to see a fault within seconds, long enough for a loaded machine. */
export const PROXY_ENV = {
  /** A command to a frozen Redis fails after this long (the default 10 s would outlast the freeze). */
  PROXY_COMMAND_TIMEOUT_MS: "3000",
  PROXY_KEEPALIVE_MS: "1000",
};

/**
 * The REST proxy (`src/proxy/main.ts`) as its own process on a fixed loopback port, so it can be killed and
 * started again where the relay expects it.
 */
export class ProxyProcess {
  readonly port: number;
  readonly url: string;
  readonly token: string;
  readonly #redisUrl: string;
  #child: ChildProcess | undefined;
  readonly pids: number[] = [];

  constructor(port: number, redisUrl: string, token: string) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.#redisUrl = redisUrl;
    this.token = token;
  }

  async start(): Promise<void> {
    const args = [
      "--no-warnings",
      PROXY_MAIN,
      "--listen",
      `127.0.0.1:${this.port}`,
      "--redis",
      this.#redisUrl,
    ];
    const child = spawn(process.execPath, [...args, "--token", this.token], {
      env: { ...process.env, ...PROXY_ENV },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    if (child.pid) this.pids.push(child.pid);
    await printed(child, /proxy listening on/, "the REST proxy", 30_000);
  }

  async kill(): Promise<void> {
    if (this.#child) await killNow(this.#child);
  }

  /** `upstash_proxy_open_streams` from /metrics: subscribe streams the proxy holds open now. */
  async openStreams(): Promise<number> {
    const response = await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    const match = /^upstash_proxy_open_streams (\d+)$/m.exec(text);
    if (!match) throw new Error(`no upstash_proxy_open_streams in /metrics:\n${text.slice(0, 500)}`);
    return Number(match[1]);
  }

  stop(): Promise<void> {
    return this.kill();
  }
}
