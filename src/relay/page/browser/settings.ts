/**
 * What the page starts with: a token and optional channels from the URL fragment (`#token=…&channel=a&pattern=b.*`),
 * which never reaches the server or its logs. The token is kept in sessionStorage (this tab only) and removed
 * from the address bar so it does not end up in screenshots, history or shared links.
 */
const TOKEN_STORAGE_KEY = "edge-relay.token";

export interface PageSettings {
  token: string;
  channels: string[];
  patterns: string[];
}

export function readSettings(): PageSettings {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const fromFragment = fragment.get("token");
  if (fromFragment !== null) {
    storeToken(fromFragment);
    fragment.delete("token");
    const rest = fragment.toString();
    history.replaceState(null, "", `${location.pathname}${location.search}${rest ? `#${rest}` : ""}`);
  }
  return {
    token: fromFragment ?? storedToken(),
    channels: fragment.getAll("channel"),
    patterns: fragment.getAll("pattern"),
  };
}

export function storeToken(token: string): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_STORAGE_KEY, token);
    else sessionStorage.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    // Storage can be disabled (private modes, sandboxed frames); the token then lives for this page only.
  }
}

function storedToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_STORAGE_KEY) ?? "";
  } catch {
    return "";
  }
}
