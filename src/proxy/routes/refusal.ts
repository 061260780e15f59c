import { BlockingPoolBusyError, BlockingTimeoutError } from "../blocking-pool.ts";
import { CommandInputError } from "../command-input.ts";
import { RedisOutcomeUnknownError, RedisUnavailableError } from "../redis-connection.ts";
import { isRedisReplyError } from "../reply.ts";
import { BodyTooLargeError } from "../request-body.ts";

/** A request the proxy will not serve: status, the `{"error"}` text, its metrics kind, and `Allow` on a 405. */
export class Refusal extends Error {
  readonly status: number;
  readonly kind: string;
  readonly allow: readonly string[] | undefined;
  constructor(status: number, message: string, kind: string, allow?: readonly string[]) {
    super(message);
    this.status = status;
    this.kind = kind;
    this.allow = allow;
  }
}

/** Any error a route throws, as the answer the client gets. */
export function toRefusal(error: unknown): Refusal {
  if (error instanceof Refusal) return error;
  if (error instanceof CommandInputError) return new Refusal(400, error.message, "input");
  if (error instanceof BodyTooLargeError) return new Refusal(413, error.message, "input");
  if (isRedisReplyError(error)) return new Refusal(400, error.message, "redis");
  if (error instanceof RedisUnavailableError || error instanceof BlockingPoolBusyError) {
    return new Refusal(503, error.message, "unavailable");
  }
  // Sent, no reply: a status of its own so an HTTP client can tell "may have run" from "did not run".
  if (error instanceof RedisOutcomeUnknownError || error instanceof BlockingTimeoutError)
    return new Refusal(504, error.message, "unavailable");
  const message = error instanceof Error ? error.message : String(error);
  return new Refusal(500, `ERR internal proxy error: ${message}`, "internal");
}
