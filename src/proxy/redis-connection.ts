import { type Cluster, Command, Redis, type RedisOptions } from "ioredis";
import { commandSlot } from "./cluster/slot-routing.ts";
import type { RedisCommand } from "./command-input.ts";
import type { RedisReply } from "./reply.ts";

/** A single Redis connection or a Redis Cluster (docs/proxy.md, "Redis Cluster"): both route `sendCommand`. */
export type CommandConnection = Redis | Cluster;

/** Redis could not be reached, so the command was not sent: answered with a JSON 503 (docs/proxy.md). */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

/**
 * The command was sent but no reply came (timeout, or the connection broke while it was in flight): it may
 * have run. Answered with a JSON 504 whose text says so, the only part @upstash/redis passes on.
 */
export class RedisOutcomeUnknownError extends Error {
  override name = "RedisOutcomeUnknownError";
}

/** ioredis's rejection of a command it never wrote (the socket was not writable): nothing ran. */
export function wasNeverSent(error: unknown): boolean {
  return error instanceof Error && /Stream isn't writeable/.test(error.message);
}

export interface ConnectionSettings {
  /** Give up on a command whose reply has not come after this long. */
  commandTimeoutMs: number;
  /** Longest pause between reconnect attempts (the backoff doubles up to it). */
  maxReconnectDelayMs: number;
  connectionName: string;
}

/**
 * An ioredis connection set up for proxying: RESP2 (flat arrays, as Upstash answers), raw Buffer replies,
 * integers as text, no offline queue and no resending (a request fails fast with 503 while Redis is away
 * instead of hanging), reconnect with exponential backoff.
 */
export function openRedisConnection(
  url: string,
  settings: ConnectionSettings,
  extra: RedisOptions = {},
): Redis {
  const connection = new Redis(url, {
    protocol: 2,
    stringNumbers: true,
    enableAutoPipelining: false,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: settings.commandTimeoutMs,
    connectionName: settings.connectionName,
    disableClientInfo: true,
    lazyConnect: true,
    retryStrategy: (attempt) =>
      Math.min(50 * 2 ** attempt, settings.maxReconnectDelayMs) + Math.random() * 50,
    ...extra,
  });
  // Connection errors surface as rejected commands (503 or 504); without a listener ioredis would print each one.
  connection.on("error", () => {});
  return connection;
}

/**
 * Sends one command and resolves with its raw reply. The name is upper case on purpose: ioredis keys its
 * reply transformers (HGETALL → object, ZRANGE WITHSCORES → pairs) by lower-case name, and the proxy must
 * pass Redis's replies through untouched.
 */
export function sendRaw(connection: CommandConnection, command: RedisCommand): Promise<RedisReply> {
  const raw = new Command(command.name, command.args, { replyEncoding: null });
  // ioredis's key specs are keyed by lower-case name too: give a Cluster the slot up front, or it would send
  // the command to any node and reach the owner only through MOVED, out of order with its neighbours.
  if ("isCluster" in connection) {
    (raw as unknown as { slot: number | null }).slot = commandSlot(command) ?? null;
  }
  corkUntilNextTurn(connection);
  connection.sendCommand(raw);
  return raw.promise as Promise<RedisReply>;
}

type Corkable = { cork(): void; uncork(): void };
const corked = new WeakSet<CommandConnection>();

/**
 * Holds the socket's writes until the event loop's next turn, so the commands of every request handled in
 * this turn leave in one write instead of one system call each (order is kept; only batching changes).
 */
function corkUntilNextTurn(connection: CommandConnection): void {
  if (corked.has(connection)) return;
  const stream = (connection as unknown as { stream?: Partial<Corkable> }).stream;
  if (typeof stream?.cork !== "function" || typeof stream.uncork !== "function") return;
  const socket = stream as Corkable;
  corked.add(connection);
  socket.cork();
  setImmediate(() => {
    corked.delete(connection);
    socket.uncork();
  });
}

/** Resolves once the connection is ready, or rejects with RedisUnavailableError after `waitMs`. */
export function whenReady(
  connection: CommandConnection,
  waitMs: number,
  describe: () => string,
): Promise<void> {
  if (connection.status === "ready") return Promise.resolve();
  if (connection.status === "wait") connection.connect().catch(() => {});
  if (connection.status === "end") {
    return Promise.reject(new RedisUnavailableError(`Redis connection is closed (${describe()})`));
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      connection.off("ready", onReady);
      reject(new RedisUnavailableError(`Redis is unavailable: ${describe()}`));
    }, waitMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    connection.once("ready", onReady);
  });
}

/** The Redis URL without its password, for messages and metrics. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<invalid Redis URL>";
  }
}

/** How long QUIT may take before the connection is dropped anyway: a frozen Redis never answers it. */
const QUIT_WAIT_MS = 1000;

/** QUIT when the connection is up (Redis finishes what it was sent), then drop it either way. */
export async function closeConnection(connection: CommandConnection): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    if (connection.status === "ready") {
      const gaveUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, QUIT_WAIT_MS);
      });
      await Promise.race([connection.quit(), gaveUp]);
    }
  } catch {
    // already gone
  } finally {
    clearTimeout(timer);
    connection.disconnect();
  }
}
