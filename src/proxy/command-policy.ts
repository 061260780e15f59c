import type { RedisCommand } from "./command-input.ts";

/**
 * Commands that change the state of the connection they run on. On a shared connection they would leak
 * into every other request (SELECT, WATCH, SUBSCRIBE ...), so the command endpoints never run them.
 */
const CONNECTION_STATE = new Set([
  "AUTH",
  "HELLO",
  "SELECT",
  "SWAPDB",
  "QUIT",
  "RESET",
  "MULTI",
  "EXEC",
  "DISCARD",
  "WATCH",
  "UNWATCH",
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
  "MONITOR",
  "SYNC",
  "PSYNC",
  "REPLCONF",
  "READONLY",
  "READWRITE",
  "ASKING",
]);

/** CLIENT subcommands that only read; the others (REPLY, TRACKING, SETNAME, KILL, PAUSE ...) change state. */
const CLIENT_READS = new Set(["LIST", "INFO", "ID", "GETNAME", "GETREDIR", "TRACKINGINFO", "HELP"]);

/** Commands that always block the connection until data arrives or their timeout ends. */
const ALWAYS_BLOCKING = new Set([
  "BLPOP",
  "BRPOP",
  "BRPOPLPUSH",
  "BLMOVE",
  "BLMPOP",
  "BZPOPMIN",
  "BZPOPMAX",
  "BZMPOP",
  "WAIT",
  "WAITAOF",
]);

export type CommandKind = "plain" | "blocking" | "connection-state";

/** Classifies a command for the command endpoints: run it, run it on a dedicated connection, or refuse it. */
export function classifyCommand(command: RedisCommand): CommandKind {
  const { name, args } = command;
  if (CONNECTION_STATE.has(name)) return "connection-state";
  if (name === "CLIENT") {
    const sub = args[0]?.toString().toUpperCase();
    return sub !== undefined && CLIENT_READS.has(sub) ? "plain" : "connection-state";
  }
  if (ALWAYS_BLOCKING.has(name)) return "blocking";
  if ((name === "XREAD" || name === "XREADGROUP") && hasBlockOption(args)) return "blocking";
  return "plain";
}

/** XREAD/XREADGROUP options come before STREAMS; a BLOCK there makes the call blocking. */
function hasBlockOption(args: Array<string | Buffer>): boolean {
  for (const arg of args) {
    const upper = arg.toString().toUpperCase();
    if (upper === "STREAMS") return false;
    if (upper === "BLOCK") return true;
  }
  return false;
}

/** The 400 error text for a refused command. */
export function refusalMessage(command: RedisCommand, kind: CommandKind): string {
  if (kind === "connection-state") {
    return `ERR '${command.name}' is not supported over REST: it changes the state of a shared Redis connection`;
  }
  return (
    `ERR '${command.name}' blocks the connection and is not supported over REST ` +
    "(start the proxy with --allow-blocking to serve blocking commands on dedicated connections)"
  );
}
