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
    return Buffer.from(String(sizes.reduce((sum: number, size) => sum + Number(String(size)), 0)));
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
