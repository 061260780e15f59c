import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { redisServerBinary } from "../../helpers/redis-server.ts";
import { alive, killNow, printed, signal } from "./child.ts";

/** How Redis keeps its data: none (a restart comes back empty) or an AOF fsynced on every write. */
export type Persistence = "none" | "aof";

/**
 * A redis-server on a fixed loopback port that can be killed, frozen and started again on the same port, with
 * or without its data (fault injection). Each start with `none` gets a fresh empty directory.
 */
export class RedisProcess {
  readonly port: number;
  readonly url: string;
  persistence: Persistence = "none";
  #child: ChildProcess | undefined;
  #dir: string | undefined;
  /** Every pid this object started, for the leftover check. */
  readonly pids: number[] = [];

  constructor(port: number) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
  }

  async start(persistence: Persistence): Promise<void> {
    if (persistence === "none" || this.persistence !== persistence || !this.#dir) this.#freshDir();
    this.persistence = persistence;
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.#dir as string];
    args.push("--save", "", "--protected-mode", "yes");
    if (persistence === "aof") args.push("--appendonly", "yes", "--appendfsync", "always");
    else args.push("--appendonly", "no");
    const child = spawn(redisServerBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    if (child.pid) this.pids.push(child.pid);
    await printed(child, /Ready to accept connections/, `redis-server on ${this.port}`, 15_000);
  }

  /** SIGKILL: a crash. With `aof` every acknowledged write is on disk (appendfsync always). */
  async kill(): Promise<void> {
    if (this.#child) await killNow(this.#child);
  }

  /** SIGSTOP: the process stays, its sockets stay open, nothing answers. */
  freeze(): void {
    if (this.#child?.pid && alive(this.#child)) signal(this.#child.pid, "SIGSTOP");
  }

  thaw(): void {
    if (this.#child?.pid && alive(this.#child)) signal(this.#child.pid, "SIGCONT");
  }

  async stop(): Promise<void> {
    this.thaw();
    await this.kill();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }

  #freshDir() {
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = mkdtempSync(join(tmpdir(), "relay-faults-redis-"));
  }
}
