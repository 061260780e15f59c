import { type ChildProcess, spawn } from "node:child_process";

/** How a server process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcessOptions {
  /** Used in error messages ("the relay on Node"). */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** Base URL it serves (http://127.0.0.1:<port>). */
  url: string;
  /** Path answering 2xx once it is ready. */
  readyPath: string;
  readyTimeoutMs: number;
  /** Each non-empty line of its stdout and stderr. */
  onLine?: (line: string) => void;
  /** Lines matching this are dropped before `onLine` and the kept output (known harmless noise). */
  noise?: RegExp;
  /** Called while waiting; throwing aborts the start (and stops the process). */
  checkpoint?: () => void;
  /** How long `stop()` waits after its signal before SIGKILL. */
  killAfterMs: number;
  /** Builds the error for a process that exited, or did not answer in time, before it was ready. */
  failure?: (message: string) => Error;
}

export interface ServerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  exited: Promise<ProcessExit>;
  /** Its last lines of output (for error and assertion messages). */
  output(): string;
  /**
   * `signal` (default SIGTERM) to its process group, SIGKILL to the group after `killAfterMs`; resolves once the
   * process has exited. Grandchildren (wrangler's workerd) go with the group.
   */
  stop(signal?: NodeJS.Signals): Promise<ProcessExit>;
}

const KEEP_LINES = 60;

/**
 * Spawns a server in its own process group (Ctrl-C reaches only us; stopping it stops its children too) and waits
 * until `readyPath` answers 2xx. Fails with its last output when it exits first or time runs out, stopping it.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const recent: string[] = [];
  forwardLines(child, (line) => {
    if (options.noise?.test(line)) return;
    recent.push(line);
    if (recent.length > KEEP_LINES) recent.shift();
    options.onLine?.(line);
  });
  const exited = new Promise<ProcessExit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  // A failed spawn (missing binary) emits "error", then "exit" with no pid.
  child.once("error", (error) => recent.push(String(error)));
  const output = () => recent.join("\n");
  let stopping: Promise<ProcessExit> | undefined;
  const server: ServerProcess = {
    url: options.url,
    pid: child.pid ?? 0,
    child,
    exited,
    output,
    stop(signal = "SIGTERM") {
      stopping ??= stopGroup(child, exited, signal, options.killAfterMs);
      return stopping;
    },
  };
  try {
    await waitUntilReady(server, options);
  } catch (error) {
    await server.stop("SIGKILL");
    throw error;
  }
  return server;
}

async function waitUntilReady(server: ServerProcess, options: ServerProcessOptions): Promise<void> {
  const fail = options.failure ?? ((message: string) => new Error(message));
  const deadline = Date.now() + options.readyTimeoutMs;
  let exit: ProcessExit | undefined;
  void server.exited.then((value) => {
    exit = value;
  });
  const url = `${options.url}${options.readyPath}`;
  while (Date.now() < deadline) {
    options.checkpoint?.();
    if (exit) {
      throw fail(
        `${options.name} exited (code ${exit.code}) before it answered ${options.readyPath}. Its last output:\n${server.output()}`,
      );
    }
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    await response?.body?.cancel();
    if (response?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw fail(
    `${options.name} did not answer ${url} within ${options.readyTimeoutMs / 1000} s. Its last output:\n${server.output()}`,
  );
}

function stopGroup(
  child: ChildProcess,
  exited: Promise<ProcessExit>,
  signal: NodeJS.Signals,
  killAfterMs: number,
): Promise<ProcessExit> {
  const pid = child.pid;
  if (child.exitCode !== null || child.signalCode !== null || pid === undefined) {
    killGroup(pid, "SIGKILL"); // Grandchildren (workerd) may outlive a crashed wrangler.
    return exited;
  }
  const force = setTimeout(() => killGroup(pid, "SIGKILL"), killAfterMs);
  killGroup(pid, signal);
  return exited.then((exit) => {
    clearTimeout(force);
    killGroup(pid, "SIGKILL");
    return exit;
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function forwardLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let partial = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n/);
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onLine(line);
    });
  }
}
