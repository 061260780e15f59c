import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const RELAY_BIN = fileURLToPath(new URL("../../../bin/relay.mjs", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment without any RELAY_* the developer may have set, so tests only see what they pass. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("RELAY_") && name !== "PORT" && name !== "REDIS_URL") env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Starts `relay <args>` as a process (the bin, as a user runs it); `nodeArgs` go to node before the bin, `cwd` is
 * the directory it runs in (default: this one).
 */
export function spawnCli(
  args: string[],
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
  cwd?: string,
): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, RELAY_BIN, ...args], {
    ...(cwd ? { cwd } : {}),
    env: cleanEnv(env),
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Runs `relay <args>` to completion; `input` goes to stdin. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<CliResult> {
  const child = spawnCli(args, options.env);
  child.stdin?.end(options.input ?? "");
  return finished(child);
}

export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resolves with everything written to stderr up to and including the first line matching `pattern`. */
export function stderrUntil(child: ChildProcess, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  return outputUntil(child, "stderr", pattern, timeoutMs);
}

/** Resolves with everything written to stdout up to and including the first line matching `pattern`. */
export function stdoutUntil(child: ChildProcess, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  return outputUntil(child, "stdout", pattern, timeoutMs);
}

function outputUntil(
  child: ChildProcess,
  name: "stdout" | "stderr",
  pattern: RegExp,
  timeoutMs: number,
): Promise<string> {
  const stream = child[name];
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => reject(new Error(`no ${name} line matched ${pattern} in ${timeoutMs} ms:\n${seen}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer | string) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        stream?.off("data", onData);
        resolve(seen);
      }
    };
    stream?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the CLI exited (code ${code}) before ${name} matched ${pattern}:\n${seen}`));
    });
  });
}
