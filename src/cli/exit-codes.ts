import { CLIENT_ERROR_CODES, RelayError } from "../client/errors.ts";

/** Exit codes scripts can rely on (documented in docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** A relay error not listed below (400 bad input, 5xx), a bad response, or an unexpected failure. */
  failure: 1,
  /** Bad command line: unknown command or option, missing or invalid argument. */
  usage: 2,
  /** The key or channel does not exist (404). */
  notFound: 3,
  /** No valid token (401) or the token's scope does not cover the request (403). */
  auth: 4,
  /** A precondition failed (412 If-Match / If-None-Match) or the key holds another Redis type (409). */
  conflict: 5,
  /** The relay could not be reached, or a local stack component could not start. */
  unavailable: 6,
} as const;

/** Raised for bad command-line input that commander's own checks cannot see. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Raised when something the command needs is missing or does not start (redis-server, wrangler). */
export class UnavailableError extends Error {
  override name = "UnavailableError";
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof UnavailableError) return EXIT.unavailable;
  if (!(error instanceof RelayError)) return EXIT.failure;
  if (error.code === CLIENT_ERROR_CODES.network) return EXIT.unavailable;
  if (error.code === CLIENT_ERROR_CODES.invalidOptions) return EXIT.usage;
  if (error.status === 404) return EXIT.notFound;
  if (error.status === 401 || error.status === 403) return EXIT.auth;
  if (error.status === 409 || error.status === 412) return EXIT.conflict;
  return EXIT.failure;
}
