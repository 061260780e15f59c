import { readFileSync } from "node:fs";
import { json } from "../client/index.ts";
import { UsageError } from "./exit-codes.ts";

export interface ValueFlags {
  /** Send the argument as text even when it parses as JSON. */
  text?: boolean;
  /** Require the argument to be valid JSON. */
  json?: boolean;
}

/**
 * What the CLI sends for a `<json|string>` argument: valid JSON goes as JSON (so `42` and `{"a":1}` keep
 * their types), anything else as text. `-` reads the value from stdin.
 */
export async function valueFromArgument(argument: string, flags: ValueFlags): Promise<unknown> {
  if (flags.text && flags.json) throw new UsageError("--text and --json exclude each other");
  const raw = argument === "-" ? readStdin() : argument;
  if (flags.text) return raw;
  try {
    const parsed: unknown = JSON.parse(raw);
    // A JSON string must still travel as JSON, not as its unquoted text.
    return typeof parsed === "string" ? json(parsed) : parsed;
  } catch {
    if (flags.json)
      throw new UsageError(`--json was given but the value is not valid JSON: ${raw.slice(0, 80)}`);
    return raw;
  }
}

function readStdin(): string {
  let text: string;
  try {
    // fatal: invalid bytes must not turn silently into U+FFFD; the relay stores text, not bytes.
    text = new TextDecoder("utf-8", { fatal: true }).decode(readFileSync(0));
  } catch {
    throw new UsageError(
      "stdin is not valid UTF-8: the relay stores text, not bytes (base64-encode binary data)",
    );
  }
  // A trailing newline from `echo` or a heredoc is framing, not data.
  return text.endsWith("\n") ? text.slice(0, text.endsWith("\r\n") ? -2 : -1) : text;
}
