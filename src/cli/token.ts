import { sign } from "hono/jwt";

export interface TokenRequest {
  secret: string;
  /** Space-separated scopes: `publish:<ch>`, `subscribe:<ch-or-pattern>`, `kv:read:<key>`, `kv:write:<key>`, `admin`. */
  scope: string;
  ttlSeconds: number;
  subject?: string;
}

/** Mints an HS256 relay token (docs/api.md, "Auth"), as `relay token` and the local stack's dev token do. */
export function mintToken(request: TokenRequest): Promise<string> {
  if (request.secret.length === 0) throw new Error("the signing secret is empty");
  if (request.scope.trim().length === 0) throw new Error("the scope is empty");
  if (/[\p{Cc}]/u.test(request.scope)) throw new Error("the scope contains control characters");
  const now = Math.floor(Date.now() / 1000);
  return sign(
    {
      scope: request.scope.trim().split(/\s+/).join(" "),
      iat: now,
      exp: now + request.ttlSeconds,
      ...(request.subject ? { sub: request.subject } : {}),
    },
    request.secret,
    "HS256",
  );
}
