import { Cluster, type Redis } from "ioredis";
import {
  BlockingPool,
  BlockingPoolBusyError,
  type BlockingSettings,
  BlockingTimeoutError,
} from "./blocking-pool.ts";
import { isClusterInfo, openClusterConnection } from "./cluster/cluster-connection.ts";
import { isClusterWide, sendOnCluster } from "./cluster/every-primary.ts";
import type { SeedNode } from "./cluster/seed-list.ts";
import { commandSlot, connectionForSlot, firstKeySlot, sendInSlotOrder } from "./cluster/slot-routing.ts";
import { moveSubscriberOnReconnect } from "./cluster/subscriber-failover.ts";
import type { RedisCommand } from "./command-input.ts";
import { classifyCommand } from "./command-policy.ts";
import { ReadOnlyCheck } from "./read-only-check.ts";
import {
  type CommandConnection,
  type ConnectionSettings,
  closeConnection,
  openRedisConnection,
  RedisOutcomeUnknownError,
  RedisUnavailableError,
  redactRedisUrl,
  sendRaw,
  wasNeverSent,
  whenReady,
} from "./redis-connection.ts";
import { isRedisReplyError, type RedisReply } from "./reply.ts";
import { SubscriberHub } from "./subscriber-hub.ts";

/** One command's outcome inside a pipeline or transaction. */
export type SlotOutcome = { reply: RedisReply } | { error: string };

export interface BackendSettings extends ConnectionSettings {
  /** How long a request waits for a (re)connecting Redis before it gets a 503. */
  readyWaitMs: number;
  /** Further cluster seed nodes (docs/proxy.md, "Redis Cluster"): when set, the URL names a cluster for sure. */
  clusterSeeds?: SeedNode[];
  /** Serve blocking commands on dedicated connections; undefined refuses them. */
  blocking: BlockingSettings | undefined;
  log: (line: string) => void;
}

/**
 * Everything the proxy holds for one Redis URL: the shared command connection (pipelined; transactions
 * are written as one contiguous MULTI…EXEC so they never interleave), the shared subscriber connection,
 * and the pool for blocking commands. Tokens that point at the same URL share one backend.
 */
export class RedisBackend {
  readonly label: string;
  readonly subscriptions: SubscriberHub;
  /** The subscriber hub's connection; on a cluster it moves to another node when its own goes away. */
  private readonly subscriber: Redis;
  /** The seed node's connection, replaced by an ioredis Cluster once the seed reports cluster mode. */
  private connection: CommandConnection;
  private readonly redisUrl: string;
  /** Settles once the seed node has said whether it is part of a cluster; unset until asked or after a failure. */
  private discovery: Promise<void> | undefined;
  private discovered = false;
  private inCluster = false;
  private readonly blocking: BlockingPool | undefined;
  private readonly settings: BackendSettings;
  private lastError = "not connected yet";
  private closing = false;
  /** When the command connection was last seen going down (or first asked to connect); unset while ready. */
  private downSince: number | undefined;
  private readonly readOnly = new ReadOnlyCheck((command) => this.execute(command));

  constructor(redisUrl: string, settings: BackendSettings) {
    this.settings = settings;
    this.label = redactRedisUrl(redisUrl);
    this.redisUrl = redisUrl;
    if (settings.clusterSeeds?.length) {
      // Seeds given: a cluster for sure, so no INFO from the URL's node (which may be the one that is down).
      this.connection = openClusterConnection(redisUrl, settings, settings.clusterSeeds);
      this.inCluster = true;
      this.discovered = true;
    } else {
      this.connection = openRedisConnection(redisUrl, settings);
    }
    this.watch(this.connection, this.inCluster ? "cluster" : "commands");
    this.subscriber = openRedisConnection(
      redisUrl,
      { ...settings, connectionName: `${settings.connectionName}:subscriber` },
      { autoResubscribe: false }, // the hub restores exactly the subscriptions that still have listeners
    );
    if (this.connection instanceof Cluster) moveSubscriberOnReconnect(this.subscriber, this.connection);
    this.subscriptions = new SubscriberHub(this.subscriber, settings.log, this.label);
    this.blocking = settings.blocking
      ? new BlockingPool(
          // No command timeout here: the pool enforces its own limit and drops the connection.
          (node) =>
            openRedisConnection(
              node ? urlOfNode(redisUrl, node) : redisUrl,
              { ...settings, connectionName: `${settings.connectionName}:blocking` },
              { commandTimeout: undefined },
            ),
          settings.blocking,
        )
      : undefined;
  }

  /** Starts connecting (requests also wait for the connection, up to `readyWaitMs`). */
  connect(): void {
    this.downSince ??= Date.now();
    if (this.connection.status === "wait") this.connection.connect().catch(() => {});
    this.subscriptions.connect();
  }

  /** ioredis status of the command connection: "ready" when Redis answers. */
  get status(): string {
    return this.connection.status;
  }

  /** Dedicated connections running a blocking command right now. */
  get blockingActive(): number {
    return this.blocking?.active ?? 0;
  }

  get blockingAllowed(): boolean {
    return this.blocking !== undefined;
  }

  /** Runs one command. Throws Redis's reply error, RedisUnavailableError or a blocking-pool error. */
  async execute(command: RedisCommand, signal?: AbortSignal): Promise<RedisReply> {
    if (this.blocking && classifyCommand(command) === "blocking") {
      return this.runBlocking(this.blocking, command, signal);
    }
    await this.ready();
    return this.send(command).catch((error: unknown) => this.rethrow(error));
  }

  /** One command on the shared connection; on a cluster the cluster-wide ones go to every node they concern. */
  private send(command: RedisCommand): Promise<RedisReply> {
    const connection = this.connection;
    if (!(connection instanceof Cluster)) return sendRaw(connection, command);
    return sendOnCluster(connection, command, sendRaw, (routed) => sendRaw(connection, routed));
  }

  /**
   * A blocking command on a dedicated connection; on a cluster, to the primary owning its key (docs/proxy.md,
   * "Redis Cluster"), following one MOVED when the slot map was stale (a resharding or failover meanwhile).
   */
  private async runBlocking(
    pool: BlockingPool,
    command: RedisCommand,
    signal: AbortSignal | undefined,
  ): Promise<RedisReply> {
    const describe = () => this.describeDown();
    if (!this.discovered) await this.ready(); // whether the URL names a cluster decides where the command goes
    if (!this.inCluster) return pool.run(command, signal, describe);
    const cluster = this.connection as Cluster;
    const slot = commandSlot(command);
    const owner = slot === undefined ? undefined : cluster.slots[slot]?.[0];
    try {
      return await pool.run(command, signal, describe, owner);
    } catch (error) {
      const moved = isRedisReplyError(error) ? /^MOVED \d+ (\S+)/.exec(error.message) : null;
      if (!moved) throw error;
      return pool.run(command, signal, describe, moved[1]);
    }
  }

  /**
   * Runs commands in order, pipelined on the shared connection; a Redis error stays in its slot.
   * Blocking commands (when allowed) run on their own connection between the pipelined runs around them.
   */
  async pipeline(commands: RedisCommand[], signal?: AbortSignal): Promise<SlotOutcome[]> {
    const outcomes: SlotOutcome[] = [];
    let start = 0;
    while (start < commands.length) {
      const blockingAt = this.blocking
        ? commands.findIndex((command, index) => index >= start && classifyCommand(command) === "blocking")
        : -1;
      const end = blockingAt === -1 ? commands.length : blockingAt;
      if (end > start) outcomes.push(...(await this.pipelineRun(commands.slice(start, end))));
      if (blockingAt !== -1) {
        const command = commands[blockingAt] as RedisCommand;
        outcomes.push(await this.blockingSlot(command, signal));
        start = blockingAt + 1;
      } else {
        start = end;
      }
    }
    return outcomes;
  }

  /** A blocking command inside a pipeline: its timeout or a busy pool is that slot's error, not the request's. */
  private async blockingSlot(command: RedisCommand, signal: AbortSignal | undefined): Promise<SlotOutcome> {
    try {
      return { reply: await this.execute(command, signal) };
    } catch (error) {
      if (
        isRedisReplyError(error) ||
        error instanceof BlockingTimeoutError ||
        error instanceof BlockingPoolBusyError
      ) {
        return { error: error.message };
      }
      throw error;
    }
  }

  private async pipelineRun(commands: RedisCommand[]): Promise<SlotOutcome[]> {
    await this.ready();
    const send = (command: RedisCommand) => slot(this.send(command));
    const pending =
      this.connection instanceof Cluster
        ? sendInSlotOrder(commands, send, isClusterWide)
        : commands.map(send);
    const outcomes = await Promise.all(pending);
    return outcomes.map((outcome) => this.rethrowUnavailable(outcome));
  }

  /**
   * MULTI, the commands and EXEC are written in one synchronous burst on the shared connection, so no
   * other request's command can land inside the transaction. A queue-time error (unknown command, wrong
   * arity) discards it all: Redis's EXECABORT, thrown as one error with the first cause appended.
   */
  async transaction(commands: RedisCommand[]): Promise<SlotOutcome[]> {
    await this.ready();
    const target = this.transactionConnection(commands);
    try {
      return await this.transactionOn(target, commands);
    } catch (error) {
      // On a cluster whose slot map was stale (resharding, failover, a map still filling), the queued commands
      // got MOVED and EXEC discarded everything: nothing ran, so run it once more where Redis pointed.
      const node = await this.movedTarget(error);
      if (!node) throw error;
      return this.transactionOn(node, commands);
    }
  }

  /**
   * The node a transaction's MOVED names. The slot map was stale, so ioredis is told to re-read it (as it does
   * on a MOVED it sees itself; else every later transaction of the slot would pay the detour). The node may
   * still be a replica in that map (a failover), or unknown to it until the re-read is done.
   */
  private async movedTarget(error: unknown): Promise<Redis | undefined> {
    const cluster = this.connection;
    if (!(cluster instanceof Cluster) || !isRedisReplyError(error)) return undefined;
    const address = /^EXECABORT .*\(command \d+: MOVED \d+ (\S+)\)$/.exec(error.message)?.[1];
    if (!address) return undefined;
    const refreshed = new Promise<unknown>((resolve) => cluster.refreshSlotsCache(resolve));
    const find = () =>
      cluster.nodes("all").find((node) => `${node.options.host}:${node.options.port}` === address);
    const known = find();
    if (known) return known;
    await refreshed;
    return find();
  }

  private async transactionOn(target: CommandConnection, commands: RedisCommand[]): Promise<SlotOutcome[]> {
    const multi = sendRaw(target, { name: "MULTI", args: [] });
    const queued = commands.map((command) => slot(sendRaw(target, command)));
    const exec = sendRaw(target, { name: "EXEC", args: [] });
    const settled = await Promise.all([slot(multi), Promise.all(queued), slot(exec)]);
    const multiOutcome = this.rethrowUnavailable(settled[0]);
    const queuedOutcomes = settled[1].map((outcome) => this.rethrowUnavailable(outcome));
    const execOutcome = this.rethrowUnavailable(settled[2]);
    if ("error" in multiOutcome) throw replyError(multiOutcome.error);
    if ("error" in execOutcome) {
      const firstCause = queuedOutcomes.findIndex((outcome) => "error" in outcome);
      const cause = queuedOutcomes[firstCause];
      throw replyError(
        cause && "error" in cause
          ? `${execOutcome.error} (command ${firstCause + 1}: ${cause.error})`
          : execOutcome.error,
      );
    }
    const results = execOutcome.reply;
    if (!Array.isArray(results)) throw replyError(`ERR transaction was aborted by Redis (EXEC answered nil)`);
    return results.map((item) => (item instanceof Error ? { error: item.message } : { reply: item }));
  }

  /** In cluster mode a transaction runs on the primary that owns its first key (docs/proxy.md, "Redis Cluster"). */
  private transactionConnection(commands: RedisCommand[]): CommandConnection {
    if (!(this.connection instanceof Cluster)) return this.connection;
    const wide = commands.find(isClusterWide);
    if (wide)
      throw replyError(
        `ERR ${wide.name.toUpperCase()} cannot run inside /multi-exec on a Redis Cluster: a transaction runs on one ` +
          "primary and would see only its keys; send it alone or in /pipeline",
      );
    const node = connectionForSlot(this.connection, firstKeySlot(commands));
    if (!node)
      throw new RedisUnavailableError(`Redis is unavailable: ${this.describeDown()} (no primary known)`);
    return node;
  }

  /** True when Redis flags the command (or its subcommand) `readonly`: what a read-only token may run. */
  isReadOnly(command: RedisCommand): Promise<boolean> {
    return this.readOnly.allows(command);
  }

  /** Answers PING through the command connection; false when Redis is down. */
  async ping(): Promise<boolean> {
    try {
      const reply = await this.execute({ name: "PING", args: [] });
      return Buffer.isBuffer(reply) && reply.toString() === "PONG";
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([this.subscriptions.close(), this.blocking?.close(), closeConnection(this.connection)]);
  }

  /** True once the seed node turned out to be part of a Redis Cluster. */
  get clusterMode(): boolean {
    return this.inCluster;
  }

  private ready(): Promise<void> {
    if (!this.discovered) return this.discover().then(() => this.connectionReady());
    return this.connectionReady();
  }

  /**
   * Asks the seed node `INFO cluster` once: with `cluster_enabled:1` the commands move to an ioredis Cluster
   * seeded with the same URL (docs/proxy.md, "Redis Cluster"). A seed that cannot be reached is asked again
   * by the next request; meanwhile requests get the usual 503.
   */
  private discover(): Promise<void> {
    this.discovery ??= this.askSeed().catch((error: unknown) => {
      this.discovery = undefined;
      throw error;
    });
    return this.discovery;
  }

  private async askSeed(): Promise<void> {
    await this.connectionReady();
    const info = await sendRaw(this.connection, { name: "INFO", args: ["cluster"] }).catch((error: unknown) =>
      this.rethrow(error),
    );
    if (isClusterInfo(info)) {
      const seed = this.connection;
      const cluster = openClusterConnection(this.redisUrl, this.settings, this.settings.clusterSeeds);
      this.watch(cluster, "cluster");
      this.connection = cluster;
      this.inCluster = true;
      cluster.connect().catch(() => {});
      void closeConnection(seed);
      moveSubscriberOnReconnect(this.subscriber, cluster);
      this.settings.log(`proxy: ${this.label} is a Redis Cluster node; routing commands by slot`);
    }
    this.discovered = true;
  }

  private connectionReady(): Promise<void> {
    if (this.connection.status === "ready") return Promise.resolve();
    // Down for longer than a request would wait: answer at once instead of making every request wait.
    if (this.downSince !== undefined && Date.now() - this.downSince > this.settings.readyWaitMs) {
      return Promise.reject(new RedisUnavailableError(`Redis is unavailable: ${this.describeDown()}`));
    }
    return whenReady(this.connection, this.settings.readyWaitMs, () => this.describeDown());
  }

  private describeDown(): string {
    return `${this.label} (${this.lastError})`;
  }

  /**
   * A failed command as the client must read it: Redis's own error; "unavailable" when ioredis never wrote it;
   * otherwise it was written and got no reply ("Command timed out", or "Reached the max retries per request
   * limit" / "Connection is closed." when the connection broke meanwhile), so it may have run.
   */
  private rethrow(error: unknown): never {
    if (isRedisReplyError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    if (wasNeverSent(error))
      throw new RedisUnavailableError(`Redis is unavailable: ${this.label} (${reason})`);
    throw new RedisOutcomeUnknownError(
      `Redis did not answer, the command may have run: ${reason} (${this.label})`,
    );
  }

  private rethrowUnavailable(outcome: SlotOutcome | { failure: unknown }): SlotOutcome {
    if ("failure" in outcome) this.rethrow(outcome.failure);
    return outcome;
  }

  private watch(connection: CommandConnection, role: string): void {
    let wasReady = false;
    connection.on("error", (error: Error) => {
      if (connection === this.connection) this.lastError = error.message;
    });
    connection.on("ready", () => {
      if (connection !== this.connection) return; // the seed connection, retired in cluster mode
      this.downSince = undefined;
      if (wasReady && !this.closing) this.settings.log(`proxy: ${role} connection to ${this.label} is back`);
      wasReady = true;
    });
    connection.on("close", () => {
      if (connection !== this.connection) return;
      this.downSince ??= Date.now();
      if (wasReady && !this.closing)
        this.settings.log(
          `proxy: ${role} connection to ${this.label} lost (${this.lastError}); reconnecting`,
        );
    });
  }
}

/** Settles a command into a slot: Redis errors become `{error}`, anything else is kept as a failure. */
function slot(promise: Promise<RedisReply>): Promise<SlotOutcome | { failure: unknown }> {
  return promise.then(
    (reply) => ({ reply }),
    (error: unknown) => (isRedisReplyError(error) ? { error: error.message } : { failure: error }),
  ) as Promise<SlotOutcome | { failure: unknown }>;
}

/** The backend's URL (user, password, TLS) pointed at another cluster node ("host:port"). */
function urlOfNode(redisUrl: string, node: string): string {
  const url = new URL(redisUrl);
  const at = node.lastIndexOf(":");
  const host = node.slice(0, at);
  url.hostname = host.includes(":") ? `[${host}]` : host;
  url.port = node.slice(at + 1);
  return url.toString();
}

function replyError(message: string): Error {
  const error = new Error(message);
  error.name = "ReplyError";
  return error;
}
