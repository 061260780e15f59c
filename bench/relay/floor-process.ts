import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { firstJsonLine, stopChild } from "./child-process.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const START_TIMEOUT_MS = 30_000;

export interface FloorProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts the Node or Deno fan-out floor (bench/floors/<runtime>.ts) and waits for its address. */
export async function startFloorProcess(runtime: "node" | "deno"): Promise<FloorProcess> {
  const script = join(ROOT, "bench/floors", `${runtime}.ts`);
  const [command, args] =
    runtime === "node"
      ? [process.execPath, ["--no-warnings", script]]
      : [join(ROOT, "node_modules/.bin/deno"), ["run", "--allow-net", script]];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  try {
    const { url } = await firstJsonLine<{ url: string }>(
      child,
      `the ${runtime} fan-out floor`,
      START_TIMEOUT_MS,
    );
    return { url, pid: child.pid ?? 0, stop: () => stopChild(child, 3000) };
  } catch (error) {
    await stopChild(child, 1000);
    throw error;
  }
}
