import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ProblemError, problem, problemResponse } from "../../protocol/problems.ts";
import { classifyUpstreamFailure, oneLine } from "./upstream-failure.ts";

/** Seconds a client should wait before retrying after an upstream failure (`Retry-After`). */
export const UPSTREAM_RETRY_AFTER_S = 1;
const RETRY_AFTER = { "retry-after": String(UPSTREAM_RETRY_AFTER_S) };

/**
 * Turns anything thrown by a route into a problem+json response. Redis failures are told apart
 * (docs/api.md, "Upstream failures"): WRONGTYPE is the caller's key (409); an upstream that certainly did not
 * run the command is 503 `redis_unavailable`; one that may have run it is 504 `outcome_unknown` for a write
 * (a read changed nothing either way, so it is 503); both with `Retry-After`. Only a relay bug is 500.
 * The request URL is never logged (it may carry ?access_token=).
 */
export function errorToResponse(error: unknown, c: Context): Response {
  if (error instanceof ProblemError) {
    const retry = error.problem.code === "redis_unavailable" ? RETRY_AFTER : {};
    return problemResponse(error.problem, { ...retry, ...error.headers });
  }
  if (error instanceof HTTPException) {
    const code =
      error.status === 404 ? "not_found" : error.status === 413 ? "payload_too_large" : "invalid_body";
    return problemResponse({ ...problem(code, error.message || "bad request"), status: error.status });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/WRONGTYPE/.test(message)) {
    return problemResponse(problem("wrong_type", "a relay key holds a value of another Redis type"));
  }
  const failure = classifyUpstreamFailure(error);
  if (failure !== undefined) return upstreamFailureResponse(failure, c.req.method, oneLine(message));
  console.error(`relay: ${c.req.method} ${new URL(c.req.url).pathname} failed:`, error);
  return problemResponse(problem("internal", "the relay failed unexpectedly; see its logs"));
}

function upstreamFailureResponse(
  failure: "unavailable" | "outcome_unknown",
  method: string,
  reason: string,
): Response {
  if (failure === "unavailable") {
    return problemResponse(
      problem("redis_unavailable", `Redis is unavailable, nothing was done; retry later: ${reason}`),
      RETRY_AFTER,
    );
  }
  if (method === "GET" || method === "HEAD") {
    return problemResponse(
      problem("redis_unavailable", `Redis did not answer in time; retry later: ${reason}`),
      RETRY_AFTER,
    );
  }
  return problemResponse(
    problem(
      "outcome_unknown",
      "Redis did not answer in time, so the outcome is unknown: the change may or may not have been applied. " +
        `Retrying a publish with the same Idempotency-Key is safe (it is applied at most once): ${reason}`,
    ),
    RETRY_AFTER,
  );
}
