import type { Context, MiddlewareHandler } from "hono";
import { ProblemError } from "../../protocol/problems.ts";
import type { RelayEnv } from "../context.ts";
import { ANONYMOUS_ADMIN, missingToken, tokenFromRequest, verifyToken } from "./claims.ts";
import { isAdmin, type ScopeAction, scopeAllows, scopeAllowsPattern } from "./scopes.ts";

/** Verifies the request's token (401 otherwise) and sets the `claims` variable. RELAY_AUTH=none allows everything. */
export const authenticate: MiddlewareHandler<RelayEnv> = async (c, next) => {
  const config = c.get("config");
  if (config.auth.mode === "none") {
    c.set("claims", ANONYMOUS_ADMIN);
    return next();
  }
  const token = tokenFromRequest(c.req.raw);
  if (token === null) throw missingToken();
  c.set("claims", await verifyToken(token, config));
  return next();
};

/** 403 unless the token's scopes allow `action` on `resource`. Call after all 400 checks (error order). */
export function requireScope(c: Context<RelayEnv>, action: ScopeAction, resource: string): void {
  if (!scopeAllows(c.get("claims").scopes, action, resource)) throw scopeMissing(`${action}:${resource}`);
}

/** 403 unless a `subscribe:` glob covers every channel the Redis pattern can match (docs/api.md, "Auth"). */
export function requirePatternScope(c: Context<RelayEnv>, pattern: string): void {
  if (!scopeAllowsPattern(c.get("claims").scopes, pattern)) throw scopeMissing(`subscribe:${pattern}`);
}

const scopeMissing = (required: string) =>
  new ProblemError("forbidden", `the token's scopes do not allow ${required}`, { extensions: { required } });

/** 403 unless the token has the `admin` scope. */
export function requireAdmin(c: Context<RelayEnv>): void {
  if (!isAdmin(c.get("claims").scopes))
    throw new ProblemError("forbidden", "this needs the admin scope", { extensions: { required: "admin" } });
}
