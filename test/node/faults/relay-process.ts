import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { waitUntilServing } from "../../../bench/relay/child-process.ts";
import { startRelayUnderWranglerDev, type WranglerDev } from "../../../bench/relay/wrangler-dev.ts";
import { alive, exited, killNow, signal } from "./child.ts";

const ROOT = join(import.meta.dirname, "../../..");

export type RelayRuntime = "node" | "deno" | "workers";

/** A relay the suite can start, kill and signal. */
export interface RelayProcess {
  readonly runtime: RelayRuntime;
  readonly url: string;
  /** Whether the relay's own process can be killed and restarted (not under `wrangler dev`). */
  readonly killable: boolean;
  start(): Promise<void>;
  /** Sends a signal; resolves whether the process exited within `timeoutMs`. */
  signal(name: NodeJS.Signals, timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
  /** Every pid started (workerd included), for the leftover check. */
  pids(): number[];
}

/**
 * The Node entry (`node src/entry/node.ts`) or the Deno one (`deno serve src/entry/deno.ts`, as `relay start
 * --runtime deno` runs it) on a fixed port, so a restart comes back where the clients reconnect.
 */
export class ChildRelay implements RelayProcess {
  readonly runtime: "node" | "deno";
  readonly url: string;
  readonly killable = true;
  readonly #port: number;
  readonly #env: Record<string, string>;
  #child: ChildProcess | undefined;
  readonly #pids: number[] = [];

  constructor(runtime: "node" | "deno", port: number, env: Record<string, string>) {
    this.runtime = runtime;
    this.#port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.#env = env;
  }

  async start(): Promise<void> {
    const env: NodeJS.ProcessEnv = {};
    // Only the suite's settings reach the relay, never a RELAY_* of the developer's shell.
    for (const [name, value] of Object.entries(process.env))
      if (!name.startsWith("RELAY_")) env[name] = value;
    Object.assign(env, this.#env, { PORT: String(this.#port), HOST: "127.0.0.1" });
    const [command, args] =
      this.runtime === "node"
        ? [process.execPath, ["--no-warnings", join(ROOT, "src/entry/node.ts")]]
        : [
            join(ROOT, "node_modules/.bin/deno"),
            ["serve", "--allow-net", "--allow-env", "--allow-read", "--host", "127.0.0.1"].concat([
              "--port",
              String(this.#port),
              "src/entry/deno.ts",
            ]),
          ];
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    if (child.pid) this.#pids.push(child.pid);
    try {
      await waitUntilServing(`${this.url}/healthz`, child, `the ${this.runtime} relay`, 60_000);
    } catch (error) {
      await killNow(child);
      throw error;
    }
    child.stdout?.resume();
    child.stderr?.resume();
  }

  async signal(name: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
    const child = this.#child;
    if (!child?.pid || !alive(child)) return true;
    signal(child.pid, name);
    return exited(child, timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.#child) await killNow(this.#child);
  }

  pids(): number[] {
    return [...this.#pids];
  }
}

/**
 * The relay under `wrangler dev` (a bundled snapshot, as the benchmark runs it). Its process is wrangler's, not
 * the relay's: on Workers there is no relay process to kill or to send SIGTERM (the platform owns isolates), and
 * killing wrangler's workerd does not restart it, so the relay faults (e) and (f) are not injected here.
 */
export class WranglerRelay implements RelayProcess {
  readonly runtime = "workers";
  readonly killable = false;
  readonly #settings: Record<string, string>;
  #dev: WranglerDev | undefined;
  readonly #pids = new Set<number>();

  constructor(settings: Record<string, string>) {
    this.#settings = settings;
  }

  get url(): string {
    if (!this.#dev) throw new Error("wrangler dev is not running");
    return this.#dev.url;
  }

  async start(): Promise<void> {
    this.#dev = await startRelayUnderWranglerDev(this.#settings);
    this.pids();
  }

  async signal(): Promise<boolean> {
    throw new Error("wrangler dev: the relay has no process of its own to signal");
  }

  async stop(): Promise<void> {
    this.pids();
    await this.#dev?.stop();
  }

  pids(): number[] {
    const workerd = this.#dev?.workerd();
    for (const pid of [...(workerd?.entry ?? []), ...(workerd?.worker ?? [])]) this.#pids.add(pid);
    return [...this.#pids];
  }
}
