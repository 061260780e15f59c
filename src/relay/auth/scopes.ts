/**
 * Scope globs (design §5): `*` matches any run of characters, `?` exactly one; everything else is literal
 * (so `[`, `]` in a pattern subscription are matched as themselves). Names are validated before they get
 * here, so no control characters reach the match.
 */
export function globMatch(glob: string, text: string): boolean {
  // Iterative wildcard match with single backtracking point: linear-ish, no regex, no ReDoS.
  let g = 0;
  let t = 0;
  let starG = -1;
  let starT = 0;
  while (t < text.length) {
    const c = glob[g];
    if (c === "?" || (c !== undefined && c !== "*" && c === text[t])) {
      g += 1;
      t += 1;
    } else if (c === "*") {
      starG = g;
      starT = t;
      g += 1;
    } else if (starG >= 0) {
      g = starG + 1;
      starT += 1;
      t = starT;
    } else {
      return false;
    }
  }
  while (glob[g] === "*") g += 1;
  return g === glob.length;
}

export type ScopeAction = "publish" | "subscribe" | "kv:read" | "kv:write";

/** Splits a JWT `scope` claim (space-separated) into its entries. */
export function parseScopes(scope: unknown): string[] {
  if (typeof scope === "string") return scope.split(" ").filter((entry) => entry.length > 0);
  if (Array.isArray(scope))
    return scope.filter((entry): entry is string => typeof entry === "string" && entry.length > 0);
  return [];
}

/**
 * Does any of `scopes` allow `action` on `resource` (a channel, a pattern string or a KV key)?
 * `admin` allows everything; `publish:orders.*` allows publishing to `orders.eu`.
 */
export function scopeAllows(scopes: readonly string[], action: ScopeAction, resource: string): boolean {
  const prefix = `${action}:`;
  for (const scope of scopes) {
    if (scope === "admin") return true;
    if (scope.startsWith(prefix) && globMatch(scope.slice(prefix.length), resource)) return true;
  }
  return false;
}

export function isAdmin(scopes: readonly string[]): boolean {
  return scopes.includes("admin");
}
