import { RelayError } from "../../../client/index.ts";

/** One line for a failed call: the relay's status, code and detail, or what went wrong locally. */
export function explain(error: unknown): string {
  if (error instanceof RelayError)
    return `${error.status ? `${error.status} ` : ""}${error.code}: ${error.detail}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** True for failures a new token may fix. */
export function isAuthError(error: unknown): boolean {
  return error instanceof RelayError && (error.status === 401 || error.status === 403);
}
