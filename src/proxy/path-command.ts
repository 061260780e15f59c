import { CommandInputError, type RedisCommand } from "./command-input.ts";

/**
 * Upstash's path-style form: `/set/foo/bar?EX=100` is `SET foo bar EX 100`. Each path segment is
 * percent-decoded; query parameters (except `_token`) follow as name and value; a POST/PUT body, when
 * present, is the last argument, as raw bytes.
 */
export function pathCommand(path: string, query: URLSearchParams, body: Buffer | undefined): RedisCommand {
  const segments = path.split("/").slice(1);
  if (segments.at(-1) === "") segments.pop(); // a trailing slash adds no empty argument
  const decoded = segments.map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new CommandInputError(
        `ERR malformed percent-encoding in path segment "${segment.slice(0, 200)}"`,
      );
    }
  });
  const [name, ...args] = decoded;
  if (!name)
    throw new CommandInputError("ERR no command: send POST / with a JSON array, or GET /<command>/<args...>");
  const full: Array<string | Buffer> = args;
  for (const [key, value] of query) {
    if (key === "_token") continue;
    full.push(key);
    if (value !== "") full.push(value);
  }
  if (body && body.length > 0) full.push(body);
  return { name: name.toUpperCase(), args: full };
}
