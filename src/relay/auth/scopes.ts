/**
 * Scope globs (docs/api.md, "Auth"): `*` matches any run of characters, `?` exactly one; everything else is literal.
 * Names are validated before they get here, so no control characters reach the match. (Pattern
 * subscriptions use `globCoversPattern` below.)
 */
export function globMatch(glob: string, text: string): boolean {
  return wildcardMatch(glob, text.split(""), (globChar, unit) => globChar === "?" || globChar === unit);
}

/**
 * Scope-glob match over a sequence of text units: `*` in the glob takes any run of units, every other glob
 * character exactly one unit that `unitMatches` accepts. Iterative with a single backtracking point:
 * O(glob × text), no regex, no ReDoS.
 */
function wildcardMatch(
  glob: string,
  units: readonly string[],
  unitMatches: (globChar: string, unit: string) => boolean,
): boolean {
  let g = 0;
  let t = 0;
  let starG = -1;
  let starT = 0;
  while (t < units.length) {
    const c = glob[g];
    const unit = units[t] as string;
    if (c !== undefined && c !== "*" && unitMatches(c, unit)) {
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

/** A Redis pattern as units: one literal character, `?`, a whole `[...]` class, or `*`. */
function patternUnits(pattern: string): string[] {
  return pattern.match(/\[[^\]]*\]|[\s\S]/g) ?? [];
}

/**
 * Does a scope glob cover every channel a Redis pattern can match? (docs/api.md, "Auth": the glob must match the pattern
 * string itself). A glob `*` takes any run of the pattern; a glob `?` one literal character, one `?` or one
 * `[...]` class (each matches exactly one character); a literal glob character only the same literal. So
 * `subscribe:sensor?` does not allow `pattern=sensor*`, and `subscribe:?` does not allow `pattern=*`.
 */
export function globCoversPattern(glob: string, pattern: string): boolean {
  return wildcardMatch(glob, patternUnits(pattern), (globChar, unit) =>
    globChar === "?" ? unit !== "*" : globChar === unit,
  );
}

export type ScopeAction = "publish" | "subscribe" | "kv:read" | "kv:write";

/**
 * Splits a JWT `scope` claim into its entries: one string, entries separated by spaces (RFC 8693 §4.2, the
 * form `relay token` mints). Returns null for anything else (an array, a number, a tab or another control or
 * whitespace character inside the string): another issuer's convention could mean something else, so the
 * caller refuses the token rather than guess. No claim at all is no scopes.
 */
export function parseScopes(scope: unknown): string[] | null {
  if (scope === undefined) return [];
  if (typeof scope !== "string" || /[^\S ]|\p{Cc}/u.test(scope)) return null;
  return scope.split(" ").filter((entry) => entry.length > 0);
}

/**
 * Does any of `scopes` allow `action` on `resource` (a channel, a pattern string or a KV key)?
 * `admin` allows everything; `publish:orders.*` allows publishing to `orders.eu`.
 */
export function scopeAllows(scopes: readonly string[], action: ScopeAction, resource: string): boolean {
  return anyScope(scopes, action, (glob) => globMatch(glob, resource));
}

/** Does any of `scopes` allow subscribing to the Redis pattern `pattern` (every channel it can match)? */
export function scopeAllowsPattern(scopes: readonly string[], pattern: string): boolean {
  return anyScope(scopes, "subscribe", (glob) => globCoversPattern(glob, pattern));
}

function anyScope(
  scopes: readonly string[],
  action: ScopeAction,
  globAllows: (glob: string) => boolean,
): boolean {
  const prefix = `${action}:`;
  for (const scope of scopes) {
    if (scope === "admin") return true;
    if (scope.startsWith(prefix) && globAllows(scope.slice(prefix.length))) return true;
  }
  return false;
}

export function isAdmin(scopes: readonly string[]): boolean {
  return scopes.includes("admin");
}
