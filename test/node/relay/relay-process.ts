import type { ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { startRelayProcess } from "../../../src/cli/relay-process.ts";

/** The ways a relay runs as its own process: the Node entry, `deno run … --listen` (deno task start), `deno serve`. */
export type RelayProcessKind = "node" | "deno run" | "deno serve";

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

/**
 * Starts the relay as a process (the shared starter, src/cli/relay-process.ts) on `fixedPort` (default: a free
 * loopback port) with exactly `settings` (no RELAY_* of the shell) and waits for /healthz. The caller stops it by
 * its PID (SIGTERM under test, `kill()` in cleanup). A restart passes the port of the process it replaces.
 */
export async function spawnRelayProcess(
  kind: RelayProcessKind,
  settings: Record<string, string>,
  fixedPort?: number,
): Promise<RelayProcess> {
  const relay = await startRelayProcess(kind, {
    settings,
    readyTimeoutMs: 60_000,
    ...(fixedPort ? { port: fixedPort } : {}),
  });
  return {
    url: relay.url,
    port: relay.port,
    pid: relay.pid,
    child: relay.child,
    exited: relay.exited,
    output: relay.output,
    kill: () => void relay.stop("SIGKILL"),
  };
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
