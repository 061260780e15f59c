import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { freePort } from "./free-port.ts";
import { FROM_BUILD, PACKAGE_ROOT } from "./package-root.ts";
import { type ServerProcess, startServerProcess } from "./server-process.ts";

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

/** Its real command line: `npm run proxy` in a clone, `relay proxy` from an installed package (docs/proxy.md). */
const PROXY_COMMAND = FROM_BUILD
  ? [join(PACKAGE_ROOT, "dist/cli.mjs"), "proxy"]
  : ["--experimental-strip-types", "--no-warnings", join(PACKAGE_ROOT, "src/proxy/main.ts")];

/**
 * The REST proxy as its own process on a fixed loopback port (its memory apart from the caller's; a test can kill
 * it and start it again where clients expect it). `extraArgs` are more of its flags (docs/proxy.md); `token` is
 * its bearer token (default a random one).
 */
export async function startProxyProcess(
  redisUrl: string,
  extraArgs: string[] = [],
  token = randomBytes(16).toString("hex"),
): Promise<ProxyProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let running: ServerProcess | undefined;

  async function start() {
    if (running) throw new Error("the proxy is already running");
    running = await startServerProcess({
      name: "the REST proxy",
      command: process.execPath,
      args: [
        ...PROXY_COMMAND,
        ...["--listen", `127.0.0.1:${port}`, "--redis", redisUrl, "--token", token],
        ...extraArgs,
      ],
      env: process.env,
      url,
      // /metrics answers as soon as it listens (/healthz also needs Redis).
      readyPath: "/metrics",
      readyTimeoutMs: 20_000,
      killAfterMs: 10_000,
    });
  }

  async function stop(signal: NodeJS.Signals = "SIGTERM") {
    const stopping = running;
    running = undefined;
    await stopping?.stop(signal);
  }

  await start();
  return {
    url,
    token,
    stop,
    start,
    pid: () => running?.pid,
    async openStreams() {
      const text = await (await fetch(`${url}/metrics`)).text();
      const match = /^upstash_proxy_open_streams (\d+)$/m.exec(text);
      if (!match) throw new Error("no upstash_proxy_open_streams in /metrics");
      return Number(match[1]);
    },
  };
}
