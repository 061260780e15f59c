import type { Redis } from "ioredis";
import type { RedisCommand } from "./command-input.ts";
import { closeConnection, RedisUnavailableError, sendRaw, whenReady } from "./redis-connection.ts";
import { isRedisReplyError, type RedisReply } from "./reply.ts";

export interface BlockingSettings {
  /** At most this many blocking commands run at once (one dedicated connection each). */
  maxConnections: number;
  /** A blocking command still waiting after this long is cut off (its connection is dropped). */
  timeoutMs: number;
  readyWaitMs: number;
}

/** Every dedicated connection is busy: answered with a JSON 503. */
export class BlockingPoolBusyError extends Error {
  override name = "BlockingPoolBusyError";
}

/** A blocking command ran past the proxy's limit: answered with a JSON 504. */
export class BlockingTimeoutError extends Error {
  override name = "BlockingTimeoutError";
}

/**
 * Serves blocking commands (BLPOP, XREAD BLOCK ...) on dedicated connections so they never stall the shared
 * one. The pool is capped; idle connections are kept for reuse. A command that outlives the limit, or whose
 * HTTP client went away, has its connection dropped: that is the only way to stop a blocked Redis call.
 */
export class BlockingPool {
  /** Opens a connection to `node` ("host:port" of a cluster node), or to the backend's own URL when undefined. */
  private readonly open: (node: string | undefined) => Redis;
  private readonly settings: BlockingSettings;
  /** Idle connections per node ("" for the backend's own URL). */
  private readonly idle = new Map<string, Redis[]>();
  private readonly busy = new Set<Redis>();

  constructor(open: (node: string | undefined) => Redis, settings: BlockingSettings) {
    this.open = open;
    this.settings = settings;
  }

  async run(
    command: RedisCommand,
    signal: AbortSignal | undefined,
    describeDown: () => string,
    node?: string,
  ): Promise<RedisReply> {
    if (this.busy.size >= this.settings.maxConnections) {
      throw new BlockingPoolBusyError(
        `ERR all ${this.settings.maxConnections} connections for blocking commands are busy; retry later`,
      );
    }
    const idle = this.idle.get(node ?? "") ?? [];
    this.idle.set(node ?? "", idle);
    const connection = idle.pop() ?? this.open(node);
    this.busy.add(connection);
    let reusable = false;
    try {
      await whenReady(connection, this.settings.readyWaitMs, describeDown);
      const reply = await this.race(connection, command, signal);
      reusable = true;
      return reply;
    } catch (error) {
      if (isRedisReplyError(error)) reusable = true;
      throw error;
    } finally {
      this.busy.delete(connection);
      if (reusable && connection.status === "ready") idle.push(connection);
      else connection.disconnect();
    }
  }

  private race(
    connection: Redis,
    command: RedisCommand,
    signal: AbortSignal | undefined,
  ): Promise<RedisReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new BlockingTimeoutError(
            `ERR '${command.name}' was still blocked after the proxy's limit of ${this.settings.timeoutMs} ms`,
          ),
        );
      }, this.settings.timeoutMs);
      const onAbort = () => {
        cleanup();
        reject(new RedisUnavailableError("the HTTP client went away"));
      };
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      sendRaw(connection, command).then(
        (reply) => {
          cleanup();
          resolve(reply);
        },
        (error: unknown) => {
          cleanup();
          reject(error);
        },
      );
    });
  }

  /** How many dedicated connections are serving a command right now. */
  get active(): number {
    return this.busy.size;
  }

  async close(): Promise<void> {
    for (const connection of this.busy) connection.disconnect();
    const idle = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(idle.map(closeConnection));
  }
}
