import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { freePort } from "../../../src/cli/free-port.ts";

/** The ways a relay runs as its own process: the Node entry, `deno run … --listen` (deno task start), `deno serve`. */
export type RelayProcessKind = "node" | "deno run" | "deno serve";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DENO = fileURLToPath(new URL("../../../node_modules/.bin/deno", import.meta.url));

export interface RelayProcess {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its stdout and stderr so far (for assertion messages). */
  output(): string;
  /** SIGKILL when still running (test cleanup). */
  kill(): void;
}

function command(kind: RelayProcessKind, port: number): [string, string[]] {
  if (kind === "node") return [process.execPath, ["--no-warnings", "src/entry/node.ts"]];
  if (kind === "deno run")
    return [DENO, ["run", "--allow-net", "--allow-env", "src/entry/deno.ts", "--listen"]];
  return [
    DENO,
    ["serve", "--allow-net", "--allow-env", "--allow-read", "--host", "127.0.0.1", "--port", String(port)],
  ];
}

/**
 * Starts the relay as a process on `fixedPort` (default: a free loopback port) with exactly `settings` (no RELAY_* of
 * the shell) and waits for /healthz. The caller stops it by its PID (SIGTERM under test, `kill()` in cleanup).
 * A restart passes the port of the process it replaces.
 */
export async function spawnRelayProcess(
  kind: RelayProcessKind,
  settings: Record<string, string>,
  fixedPort?: number,
): Promise<RelayProcess> {
  const port = fixedPort ?? (await freePort());
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("RELAY_")) env[name] = value;
  const [bin, args] = command(kind, port);
  const child = spawn(bin, kind === "deno serve" ? [...args, "src/entry/deno.ts"] : args, {
    cwd: ROOT,
    env: { ...env, ...settings, PORT: String(port), HOST: "127.0.0.1", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const relay: RelayProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? 0,
    child,
    exited,
    output: () => output,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the ${kind} relay exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) {
      relay.kill();
      throw new Error(`the ${kind} relay did not answer /healthz within 60 s:\n${output}`);
    }
    const response = await fetch(`${relay.url}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(
      () => undefined,
    );
    await response?.body?.cancel();
    if (response?.ok) return relay;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Resolves with the error code of a new TCP connection to the port (ECONNREFUSED when nothing listens), or "connected". */
export function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** An event stream read as text as it arrives. */
export interface OpenStream {
  text(): string;
  /** Resolves once the text so far matches `pattern`. */
  until(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the whole text when the server ends the stream; rejects when it is cut. */
  ended: Promise<string>;
  cancel(): void;
}

export async function openStream(url: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  if (response.status !== 200 || !response.body)
    throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  let text = "";
  const waiters = new Set<() => void>();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return text;
      text += chunk.value;
      for (const wake of waiters) wake();
    }
  })();
  ended.catch(() => {});
  return {
    text: () => text,
    until(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} on the stream within ${timeoutMs} ms; got:\n${text}`));
        }, timeoutMs);
        function check() {
          if (!pattern.test(text)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        }
        waiters.add(check);
        check();
      });
    },
    ended,
    cancel: () => controller.abort(),
  };
}
