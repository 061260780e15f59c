import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ProblemError, problem, problemResponse } from "../../protocol/problems.ts";

/**
 * Turns anything thrown by a route into a problem+json response. Redis failures are told apart:
 * WRONGTYPE is the caller's key (409), an unreachable or refusing REST endpoint is 503, the rest is 500.
 * The request URL is never logged (it may carry ?access_token=).
 */
export function errorToResponse(error: unknown, c: Context): Response {
  if (error instanceof ProblemError) return problemResponse(error.problem, error.headers);
  if (error instanceof HTTPException) {
    const code =
      error.status === 404 ? "not_found" : error.status === 413 ? "payload_too_large" : "invalid_body";
    return problemResponse({ ...problem(code, error.message || "bad request"), status: error.status });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/WRONGTYPE/.test(message)) {
    return problemResponse(problem("wrong_type", "a relay key holds a value of another Redis type"));
  }
  if (isRedisUnavailable(error)) {
    return problemResponse(
      problem("redis_unavailable", `the Redis REST endpoint did not answer: ${oneLine(message)}`),
    );
  }
  console.error(`relay: ${c.req.method} ${new URL(c.req.url).pathname} failed:`, error);
  return problemResponse(problem("internal", "the relay failed unexpectedly; see its logs"));
}

function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // fetch failed (TypeError), an unparsable reply, or the endpoint refusing our token.
  return (
    error.name === "TypeError" ||
    error.name === "UpstashJSONParseError" ||
    /Unauthorized|fetch failed|ECONNREFUSED|network|Exhausted all retries|LOADING|MASTERDOWN|Redis is down/i.test(
      error.message,
    )
  );
}

/** The upstream error on one line, without @upstash/redis's ", command was: [...]" echo of our arguments. */
export function oneLine(text: string): string {
  return (text.split(", command was:")[0] ?? text).replace(/\s+/g, " ").slice(0, 300);
}
