/** A command as the proxy sends it to Redis: upper-case name plus its arguments as text. */
export interface RedisCommand {
  /** Upper-cased, so lookups and policy checks are case-insensitive. */
  name: string;
  /** Text, or raw bytes (a path-style request's body). */
  args: Array<string | Buffer>;
}

/** A request body or path that is not a valid command; answered with 400 and the message. */
export class CommandInputError extends Error {
  override name = "CommandInputError";
}

/**
 * Converts one JSON command array (`["set","k","v","ex",10]`) into a Redis command, with the rules the
 * client relies on: strings as given, numbers as their decimal text, booleans as "true"/"false", null as
 * "" (SRH parity; the client sends null for undefined, NaN and ±Infinity). Nested arrays and objects have
 * no Redis meaning and are refused.
 */
export function parseCommand(value: unknown, where = "command"): RedisCommand {
  if (!Array.isArray(value)) {
    throw new CommandInputError(
      `ERR ${where} must be a JSON array like ["SET","key","value"], got ${describe(value)}`,
    );
  }
  if (value.length === 0) throw new CommandInputError(`ERR ${where} is an empty array: no command name`);
  const [head, ...rest] = value;
  if (typeof head !== "string" || head.length === 0) {
    throw new CommandInputError(
      `ERR ${where}: the command name must be a non-empty string, got ${describe(head)}`,
    );
  }
  const args = rest.map((arg, index) => argumentText(arg, `${where}, argument ${index + 1}`));
  return { name: head.toUpperCase(), args };
}

/** Parses a `/pipeline` or `/multi-exec` body: a non-empty array of command arrays. */
export function parseCommandList(value: unknown): RedisCommand[] {
  if (!Array.isArray(value)) {
    throw new CommandInputError(
      `ERR body must be a JSON array of command arrays like [["SET","k","v"]], got ${describe(value)}`,
    );
  }
  if (value.length === 0) throw new CommandInputError("ERR body is an empty array: no commands to run");
  return value.map((item, index) => parseCommand(item, `command ${index + 1}`));
}

function argumentText(arg: unknown, where: string): string {
  switch (typeof arg) {
    case "string":
      return arg;
    case "number":
      return String(arg);
    case "boolean":
      return arg ? "true" : "false";
    default:
      if (arg === null) return "";
      throw new CommandInputError(
        `ERR ${where} must be a string, number, boolean or null, got ${describe(arg)}`,
      );
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}
