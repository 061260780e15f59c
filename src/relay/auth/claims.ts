import { decode, verify, verifyWithJwks } from "hono/jwt";
import { ProblemError } from "../../protocol/problems.ts";
import type { RelayConfig } from "../config.ts";
import { parseScopes } from "./scopes.ts";
import { createVerifiedTokens, type VerifiedTokens } from "./verified-tokens.ts";

/** What the relay keeps of a verified token. */
export interface Claims {
  /** Entries of the `scope` claim, e.g. ["publish:orders", "subscribe:*"]. */
  scopes: string[];
  /** `exp` in seconds since the epoch; open streams close then. Undefined = no expiry. */
  exp?: number;
  sub?: string;
}

/** Claims when RELAY_AUTH=none: everything is allowed. */
export const ANONYMOUS_ADMIN: Claims = { scopes: ["admin"] };

const MAX_TOKEN_LENGTH = 8192;
const JWKS_CACHE_MS = 5 * 60_000;
const ASYMMETRIC = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;
type HonoJsonWebKey = NonNullable<Parameters<typeof verifyWithJwks>[1]["keys"]>[number];
/** exp and nbf are enforced; a future `iat` is not an error (a few seconds of clock skew between the token
 * issuer and the relay must not lock clients out). */
const CHECKS = { exp: true, nbf: true, iat: false } as const;
const BEARER_CHALLENGE = 'Bearer realm="edge-relay"';

/**
 * The token of a request: `Authorization: Bearer <jwt>`, else `?access_token=` (for EventSource, which
 * cannot set headers). Returns null when neither is present. The token is never logged.
 */
export function tokenFromRequest(request: Request): string | null {
  const header = request.headers.get("authorization");
  if (header !== null) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized("the Authorization header must be `Bearer <token>`", "invalid_request");
    return match[1] as string;
  }
  const query = new URL(request.url).searchParams.get("access_token");
  return query === null || query === "" ? null : query;
}

/**
 * Verifies a token as docs/api.md, "Auth", describes (HS256 with RELAY_JWT_SECRET; RS256/ES256 and friends via RELAY_JWKS_URL) and returns its
 * claims. Throws a 401 ProblemError (`unauthorized` or `token_expired`) on anything else.
 */
export async function verifyToken(token: string, config: RelayConfig): Promise<Claims> {
  if (config.auth.mode === "none") return ANONYMOUS_ADMIN;
  let verified = verifiedByConfig.get(config);
  if (!verified) {
    verified = createVerifiedTokens();
    verifiedByConfig.set(config, verified);
  }
  const known = verified.get(token);
  if (known) return known;
  const claims = await verifySignature(token, config);
  verified.set(token, claims);
  return claims;
}

/** One cache per parsed config (a process or isolate has one): a secret never vouches for another's tokens. */
const verifiedByConfig = new WeakMap<RelayConfig, VerifiedTokens>();

async function verifySignature(token: string, config: RelayConfig): Promise<Claims> {
  if (config.auth.mode === "none") return ANONYMOUS_ADMIN;
  if (token.length > MAX_TOKEN_LENGTH)
    throw unauthorized(`the token is longer than ${MAX_TOKEN_LENGTH} characters`);
  const { secret, jwksUrl } = config.auth;
  let payload: Record<string, unknown>;
  try {
    const alg = decode(token).header.alg;
    if (alg === "HS256" && secret) payload = await verify(token, secret, { alg: "HS256", ...CHECKS });
    else if (jwksUrl && (ASYMMETRIC as readonly string[]).includes(alg)) {
      payload = await verifyWithJwks(token, {
        keys: await jwks(jwksUrl),
        allowedAlgorithms: ASYMMETRIC,
        verification: CHECKS,
      });
    } else throw unauthorized(`tokens signed with ${JSON.stringify(alg)} are not accepted`);
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    throw verificationProblem(error);
  }
  const claims: Claims = { scopes: scopesOf(payload) };
  const exp = expiryOf(payload, config.auth.requireExp);
  if (exp !== undefined) claims.exp = exp;
  if (typeof payload.sub === "string") claims.sub = payload.sub;
  return claims;
}

/** The `scope` claim's entries; 401 for any form but a space-separated string (docs/api.md, "Scopes"). */
function scopesOf(payload: Record<string, unknown>): string[] {
  const scopes = parseScopes(payload.scope);
  if (scopes !== null) return scopes;
  const got = Array.isArray(payload.scope)
    ? "an array"
    : typeof payload.scope === "string"
      ? "a string with tabs, line breaks or control characters"
      : typeof payload.scope;
  throw unauthorized(`the token's scope claim must be one string of space-separated scopes, got ${got}`);
}

/**
 * `exp` in seconds. A token without one never expires, so with RELAY_REQUIRE_EXP (the default) it is refused.
 * (A present `exp` that is not a finite number never gets here: hono's verify refuses it as expired.)
 */
function expiryOf(payload: Record<string, unknown>, requireExp: boolean): number | undefined {
  if (typeof payload.exp === "number") return payload.exp;
  if (!requireExp) return undefined;
  throw unauthorized(
    "the token has no exp claim, and this relay requires one (RELAY_REQUIRE_EXP=true): a token without exp is valid for ever; mint tokens that expire (`relay token --ttl 1h`)",
  );
}

/** Milliseconds until the claims expire (Infinity without `exp`); streams close when this runs out. */
export function msUntilExpiry(claims: Claims, now = Date.now()): number {
  return claims.exp === undefined ? Number.POSITIVE_INFINITY : claims.exp * 1000 - now;
}

function verificationProblem(error: unknown): ProblemError {
  const name = error instanceof Error ? error.name : "";
  if (name === "JwtTokenExpired") {
    return new ProblemError("token_expired", "the token has expired (exp)", {
      headers: {
        "www-authenticate": `${BEARER_CHALLENGE}, error="invalid_token", error_description="expired"`,
      },
    });
  }
  const reasons: Record<string, string> = {
    JwtTokenSignatureMismatched: "the token's signature does not verify",
    JwtTokenNotBefore: "the token is not valid yet (nbf)",
    JwtTokenIssuedAt: "the token is issued in the future (iat)",
    JwtHeaderInvalid: "the token's header is invalid",
    JwtHeaderRequiresKid: "the token has no kid, which JWKS verification needs",
    JwtAlgorithmNotAllowed: "the token's algorithm is not accepted",
    JwtAlgorithmMismatch: "the token's algorithm does not match its key",
  };
  return unauthorized(reasons[name] ?? "the token is malformed or cannot be verified");
}

function unauthorized(detail: string, error = "invalid_token"): ProblemError {
  return new ProblemError("unauthorized", detail, {
    headers: { "www-authenticate": `${BEARER_CHALLENGE}, error="${error}"` },
  });
}

/** A 401 for a request without a token. */
export function missingToken(): ProblemError {
  return new ProblemError(
    "unauthorized",
    "this endpoint needs a token: `Authorization: Bearer <jwt>` or `?access_token=`",
    {
      headers: { "www-authenticate": BEARER_CHALLENGE },
    },
  );
}

let jwksCache: { url: string; keys: HonoJsonWebKey[]; until: number } | undefined;

/** The JWKS key set, cached for 5 minutes (only resolved values are cached: workerd forbids sharing I/O). */
async function jwks(url: string): Promise<HonoJsonWebKey[]> {
  if (jwksCache && jwksCache.url === url && jwksCache.until > Date.now()) return jwksCache.keys;
  const response = await fetch(url, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`JWKS fetch from ${url} answered ${response.status}`);
  const body = (await response.json()) as { keys?: unknown };
  if (!Array.isArray(body.keys)) throw new Error(`JWKS from ${url} has no "keys" array`);
  jwksCache = { url, keys: body.keys as HonoJsonWebKey[], until: Date.now() + JWKS_CACHE_MS };
  return jwksCache.keys;
}
