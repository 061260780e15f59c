/**
 * What a failed call to the Redis REST endpoint means for the caller (docs/api.md, "Upstream failures"):
 * - `unavailable`: the command certainly did not run (nothing answered the connection, the endpoint refused
 *   the relay, Redis was down or refused the command before running it);
 * - `outcome_unknown`: the command was sent and no answer came back (timeout, connection lost mid-request,
 *   an unparsable answer from something in between): it may have run;
 * - `undefined`: not an upstream failure (a Redis error reply such as WRONGTYPE, or a relay bug).
 * Errors reach the relay as @upstash/redis errors (UpstashError carries the endpoint's `{"error"}` text, never
 * the HTTP status) or as fetch's TypeError, so the texts below are the contract: the project's proxy
 * (docs/proxy.md) words its answers to match, and Upstash's own and Redis's refusals are listed.
 */
export type UpstreamFailure = "unavailable" | "outcome_unknown";

/** The endpoint or Redis refused before running anything. */
const REFUSED_BEFORE_RUNNING = new RegExp(
  [
    "Redis is unavailable", // the proxy: not connected (docs/proxy.md)
    "Redis connection is closed",
    "Stream isn't writeable",
    "ECONNREFUSED",
    "ENOTFOUND",
    "EAI_AGAIN",
    "connection refused",
    "Unauthorized",
    "WRONGPASS",
    "NOAUTH",
    "NOPERM",
    "^LOADING",
    "^MASTERDOWN",
    "^READONLY",
    // A primary refusing writes while it lacks replicas (min-replicas-to-write), a cluster without a quorum or
    // mid-resharding: Redis refuses these before running anything (docs/data-model.md, "What failover can lose").
    "\\bNOREPLICAS\\b",
    "\\bCLUSTERDOWN\\b",
    "\\bTRYAGAIN\\b",
    "^BUSY ",
    "^OOM ",
    "Redis is down",
    // Upstash: quotas and plan limits are checked before the command runs.
    "max daily request limit",
    "max requests limit",
    "max concurrent connections",
    "max request size",
    "limit exceeded",
  ].join("|"),
  "i",
);

/** Sent, but no answer: the command may have run. */
const NO_ANSWER = new RegExp(
  [
    "may have run", // the proxy: sent and no reply (docs/proxy.md)
    "Redis did not answer",
    "Command timed out",
    "max retries per request",
    "Connection is closed",
    "timed out",
    "timeout",
    "ECONNRESET",
    "EPIPE",
    "socket hang up",
    "other side closed",
    "Network connection lost", // workerd
    "connection reset",
    "connection closed",
    "Gateway",
    "Service Unavailable",
    "Bad Gateway",
    "Internal Server Error",
  ].join("|"),
  "i",
);

export function classifyUpstreamFailure(error: unknown): UpstreamFailure | undefined {
  if (!(error instanceof Error)) return undefined;
  const text = describeChain(error);
  if (REFUSED_BEFORE_RUNNING.test(text)) return "unavailable";
  if (NO_ANSWER.test(text)) return "outcome_unknown";
  // A non-JSON answer (an HTML error page from a gateway) or a failed fetch we cannot place: the request may
  // have reached Redis, so the outcome is unknown.
  if (error.name === "UpstashJSONParseError") return "outcome_unknown";
  if (error.name === "TypeError" && !/is not a function|Cannot read|undefined|null/.test(error.message))
    return "outcome_unknown";
  if (error.name === "TimeoutError") return "outcome_unknown";
  if (error.message === "Exhausted all retries") return "unavailable";
  return undefined;
}

/** The error's message with its causes' (Node's fetch says "fetch failed" and puts ECONNREFUSED in `cause`). */
function describeChain(error: Error): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === "string" ? `${code} ${current.message}` : current.message);
    current = current.cause;
  }
  return oneLine(parts.join(": "));
}

/** The upstream error on one line, without @upstash/redis's ", command was: [...]" echo of our arguments. */
export function oneLine(text: string): string {
  return (text.split(", command was:")[0] ?? text).replace(/\s+/g, " ").slice(0, 300);
}
