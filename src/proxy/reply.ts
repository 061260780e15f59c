/**
 * A RESP2 reply as ioredis hands it over with `replyEncoding: null` and `stringNumbers: true`:
 * bulk and status strings arrive as raw bytes (Buffer), integers as decimal text (string), nil as null,
 * arrays as arrays, and an error nested in an array (EXEC slots, Lua tables) as an Error.
 * Keeping integers as text is what lets an integer beyond 2^53 survive.
 */
export type RedisReply = Buffer | string | null | Error | RedisReply[];

/** True for the errors Redis itself sent (WRONGTYPE, ERR ..., NOSCRIPT ...), as opposed to connection failures. */
export function isRedisReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "ReplyError";
}
