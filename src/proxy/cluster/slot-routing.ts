import { type Cluster, Command, type Redis } from "ioredis";
import { keySlot } from "../../protocol/key-slot.ts";
import type { RedisCommand } from "../command-input.ts";

/**
 * The hash slot of the command's first key, found by ioredis's key specs (looked up by lower-case name) but
 * hashed as Redis does: ioredis's `cluster-key-slot` reads a tag out of keys like `{}{x}` where Redis hashes the
 * whole key, which would send the command to the wrong primary (and a transaction onto a MOVED).
 */
export function commandSlot(command: RedisCommand): number | undefined {
  const [key] = new Command(command.name.toLowerCase(), command.args).getKeys();
  if (key === undefined || key === null) return undefined;
  return keySlot(typeof key === "string" ? key : new Uint8Array(key));
}

/** The hash slot of the first key any of the commands names, or undefined when none has a key. */
export function firstKeySlot(commands: RedisCommand[]): number | undefined {
  for (const command of commands) {
    const slot = commandSlot(command);
    if (slot !== undefined) return slot;
  }
  return undefined;
}

/**
 * The primary's connection a transaction must run on: the owner of its first key's slot (any primary when
 * no command names a key). Every command is then sent there as it is, so keys in other slots get Redis's own
 * CROSSSLOT (or MOVED) at queue time and EXEC aborts the whole transaction: never a partial write.
 */
export function connectionForSlot(cluster: Cluster, slot: number | undefined): Redis | undefined {
  const primaries = cluster.nodes("master");
  if (slot === undefined) return primaries[0];
  const owner = cluster.slots[slot]?.[0];
  return primaries.find((node) => `${node.options.host}:${node.options.port}` === owner) ?? primaries[0];
}

/**
 * Runs a pipeline's commands on a cluster: commands of different slots in parallel (different primaries),
 * commands of one slot one after another. A command redirected by MOVED/ASK (resharding, a stale slot map)
 * is re-sent later, so sending a slot's commands all at once could let a later one overtake it. A barrier
 * (a command several nodes answer: SCRIPT LOAD, SCAN, …) waits for everything before it, and everything after it
 * waits for it: an EVALSHA after SCRIPT LOAD finds the script on its primary.
 */
export function sendInSlotOrder<T>(
  commands: RedisCommand[],
  send: (command: RedisCommand) => Promise<T>,
  isBarrier: (command: RedisCommand) => boolean = () => false,
): Promise<T>[] {
  const lastOfSlot = new Map<number | undefined, Promise<unknown>>();
  let barrier: Promise<unknown> = Promise.resolve();
  return commands.map((command) => {
    if (isBarrier(command)) {
      const before = Promise.all([barrier, ...lastOfSlot.values()]);
      lastOfSlot.clear();
      const run = before.then(() => send(command));
      barrier = run.catch(() => {});
      return run;
    }
    const slot = firstKeySlot([command]);
    const previous = lastOfSlot.get(slot) ?? barrier;
    const run = previous.then(() => send(command));
    lastOfSlot.set(
      slot,
      run.catch(() => {}),
    );
    return run;
  });
}
