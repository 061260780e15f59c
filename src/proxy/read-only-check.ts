import type { RedisCommand } from "./command-input.ts";
import type { RedisReply } from "./reply.ts";

interface CommandFlags {
  flags: string[];
  /** "config|get" → its flags (Redis 7 lists subcommands in COMMAND INFO). */
  subcommands: Map<string, string[]>;
}

/**
 * Decides what a read-only token may run from Redis's own `readonly` command flag (COMMAND INFO), so it
 * matches the Redis behind the proxy, modules included, with no hand-kept list. PING and ECHO are allowed too.
 */
export class ReadOnlyCheck {
  private readonly execute: (command: RedisCommand) => Promise<RedisReply>;
  private readonly cache = new Map<string, Promise<CommandFlags | null>>();

  constructor(execute: (command: RedisCommand) => Promise<RedisReply>) {
    this.execute = execute;
  }

  async allows(command: RedisCommand): Promise<boolean> {
    if (command.name === "PING" || command.name === "ECHO") return true;
    const flags = await this.flagsOf(command.name);
    if (!flags) return false; // unknown to Redis, so not known to only read
    const sub = command.args[0]?.toString().toLowerCase();
    const subFlags =
      sub === undefined ? undefined : flags.subcommands.get(`${command.name.toLowerCase()}|${sub}`);
    return (subFlags ?? flags.flags).includes("readonly");
  }

  /** Cached per known command name; unknown names are not cached, so junk names cannot grow the cache. */
  private flagsOf(name: string): Promise<CommandFlags | null> {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const lookup = this.execute({ name: "COMMAND", args: ["INFO", name] }).then(parseCommandInfo);
    this.cache.set(name, lookup);
    lookup.then(
      (flags) => flags === null && this.cache.delete(name),
      () => this.cache.delete(name),
    );
    return lookup;
  }
}

function parseCommandInfo(info: RedisReply): CommandFlags | null {
  const entry = Array.isArray(info) ? info[0] : null;
  if (!Array.isArray(entry)) return null;
  const subcommands = new Map<string, string[]>();
  const listed = entry[9];
  if (Array.isArray(listed)) {
    for (const item of listed) {
      if (Array.isArray(item)) subcommands.set(String(item[0]).toLowerCase(), flagList(item));
    }
  }
  return { flags: flagList(entry), subcommands };
}

function flagList(entry: RedisReply[]): string[] {
  const flags = entry[2];
  return Array.isArray(flags) ? flags.map((flag) => String(flag).toLowerCase()) : [];
}
