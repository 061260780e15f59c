import type { Cluster, Redis } from "ioredis";
import type { RedisCommand } from "../command-input.ts";
import type { RedisReply } from "../reply.ts";

type Send = (node: Redis, command: RedisCommand) => Promise<RedisReply>;

/**
 * Commands whose answer covers the whole keyspace, so on a cluster they must ask every primary; SCRIPT LOAD and
 * SCRIPT FLUSH too, since an EVALSHA after them may run on any primary (the one owning its keys); FLUSHDB and
 * FLUSHALL, which would otherwise empty one random primary.
 */
export function isKeyspaceWide(command: RedisCommand): boolean {
  const name = command.name.toUpperCase();
  if (name === "SCRIPT") return ["LOAD", "FLUSH"].includes(String(command.args[0] ?? "").toUpperCase());
  return ["SCAN", "DBSIZE", "KEYS", "FLUSHDB", "FLUSHALL"].includes(name);
}

/** Primaries in a stable order (host:port), so a compound SCAN cursor names the same node on every call. */
function primariesInOrder(cluster: Cluster): Redis[] {
  const key = (node: Redis) => `${node.options.host}:${node.options.port}`;
  return cluster.nodes("master").sort((a, b) => key(a).localeCompare(key(b)));
}

/**
 * SCAN, DBSIZE and KEYS over every primary (docs/proxy.md, "Redis Cluster"). SCAN's cursor is compound:
 * node cursor × primaries + node index, so a client's ordinary SCAN loop walks one primary after another and
 * ends with "0" after the last. A topology change during a scan may skip or repeat keys, as SCAN allows.
 */
export async function runOnEveryPrimary(
  cluster: Cluster,
  command: RedisCommand,
  send: Send,
): Promise<RedisReply> {
  const primaries = primariesInOrder(cluster);
  const name = command.name.toUpperCase();
  if (name === "DBSIZE") {
    const sizes = await Promise.all(primaries.map((node) => send(node, command)));
    // An integer reply is decimal text (src/proxy/reply.ts), so the sum is too.
    return String(sizes.reduce((sum: number, size) => sum + Number(String(size)), 0));
  }
  if (name === "SCRIPT" || name === "FLUSHDB" || name === "FLUSHALL") {
    // Every primary answers the same (the SHA, or OK); a failure on any one is the command's failure.
    const replies = await Promise.all(primaries.map((node) => send(node, command)));
    return replies[0] as RedisReply;
  }
  if (name === "KEYS") {
    const lists = await Promise.all(primaries.map((node) => send(node, command)));
    return lists.flatMap((list) => (Array.isArray(list) ? list : []));
  }
  const count = BigInt(primaries.length);
  const compound = BigInt(String(command.args[0] ?? "0"));
  let index = Number(compound % count);
  const nodeCursor = compound / count;
  const node = primaries[index] as Redis;
  const [next, keys] = (await send(node, {
    name: command.name,
    args: [String(nodeCursor), ...command.args.slice(1)],
  })) as [Buffer, RedisReply[]];
  let nextCompound = BigInt(next.toString()) * count + BigInt(index);
  if (nextCompound === BigInt(index)) {
    index += 1;
    nextCompound = index < primaries.length ? BigInt(index) : 0n;
  }
  return [Buffer.from(nextCompound.toString()), keys];
}

/**
 * PUBSUB NUMSUB / NUMPAT / CHANNELS: classic subscribers are per node (a PUBLISH reaches every node), so on a
 * cluster the answer is the sum (NUMSUB, NUMPAT) or union (CHANNELS) over every node, replicas included: a plain
 * client in cluster mode may subscribe on any of them, and the proxy's own subscriber sits on its seed.
 */
export function isPubsubCount(command: RedisCommand): boolean {
  return (
    command.name.toUpperCase() === "PUBSUB" &&
    ["NUMSUB", "NUMPAT", "CHANNELS"].includes(String(command.args[0] ?? "").toUpperCase())
  );
}

export async function countPubsubOnEveryNode(
  cluster: Cluster,
  command: RedisCommand,
  send: Send,
): Promise<RedisReply> {
  const replies = await Promise.all(cluster.nodes("all").map((node) => send(node, command)));
  const sub = String(command.args[0]).toUpperCase();
  if (sub === "NUMPAT") return String(replies.reduce((sum: number, reply) => sum + Number(reply), 0));
  if (sub === "CHANNELS") {
    const seen = new Map<string, RedisReply>();
    for (const reply of replies)
      for (const name of Array.isArray(reply) ? reply : []) seen.set(String(name), name);
    return [...seen.values()];
  }
  // NUMSUB: [channel, count, channel, count, …] in the order asked, counts summed.
  const totals = new Map<string, number>();
  for (const reply of replies) {
    const pairs = Array.isArray(reply) ? reply : [];
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const name = String(pairs[i]);
      totals.set(name, (totals.get(name) ?? 0) + Number(pairs[i + 1]));
    }
  }
  return command.args
    .slice(1)
    .flatMap((channel) => [
      Buffer.isBuffer(channel) ? channel : Buffer.from(String(channel)),
      String(totals.get(String(channel)) ?? 0),
    ]);
}

/** SCRIPT LOAD / EXISTS / FLUSH: a script must be loaded where EVALSHA will run, so on a cluster on every primary. */
export function isScriptManagement(command: RedisCommand): boolean {
  return (
    command.name.toUpperCase() === "SCRIPT" &&
    ["LOAD", "EXISTS", "FLUSH"].includes(String(command.args[0] ?? "").toUpperCase())
  );
}

/**
 * Runs SCRIPT LOAD / FLUSH on every primary (the first answer is the answer: the same SHA or OK everywhere) and
 * SCRIPT EXISTS as "loaded on every primary", so an EVALSHA routed to any key's primary finds the script.
 */
export async function scriptOnEveryPrimary(
  cluster: Cluster,
  command: RedisCommand,
  send: Send,
): Promise<RedisReply> {
  const replies = await Promise.all(primariesInOrder(cluster).map((node) => send(node, command)));
  if (String(command.args[0]).toUpperCase() !== "EXISTS") return replies[0] ?? null;
  const lists = replies.map((reply) => (Array.isArray(reply) ? reply : []));
  return (lists[0] ?? []).map((_, i) => (lists.every((list) => String(list[i]) === "1") ? "1" : "0"));
}

/** A command answered by several nodes at once: in a pipeline it waits for what came before and holds what follows. */
export function isClusterWide(command: RedisCommand): boolean {
  return isKeyspaceWide(command) || isPubsubCount(command) || isScriptManagement(command);
}

/** Sends `command` on a cluster: the cluster-wide ones to every node they concern, the rest by slot (ioredis). */
export function sendOnCluster(
  cluster: Cluster,
  command: RedisCommand,
  send: Send,
  bySlot: (command: RedisCommand) => Promise<RedisReply>,
): Promise<RedisReply> {
  if (isKeyspaceWide(command)) return runOnEveryPrimary(cluster, command, send);
  if (isPubsubCount(command)) return countPubsubOnEveryNode(cluster, command, send);
  if (isScriptManagement(command)) return scriptOnEveryPrimary(cluster, command, send);
  return bySlot(command);
}
