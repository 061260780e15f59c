import { type Context, Hono } from "hono";
import { ProblemError } from "../../protocol/problems.ts";
import { PAGE_CSS, PAGE_HTML, PAGE_SCRIPT } from "./assets.generated.ts";

/** A prebuilt asset: its body and a strong ETag computed at build time (scripts/build-page.ts). */
interface PageAsset {
  etag: string;
  body: string;
}

/**
 * Strict CSP: the page loads only its own script and stylesheet and talks only to the relay that served it.
 * No inline script or style, no CDN, no frames. User data is rendered as text, and this is the second fence.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/**
 * The live page (`GET /`) and its two assets, inlined as strings so it works the same on Workers, Deno and
 * Node with no assets binding. Public: the page holds no secret and asks the user for a token.
 */
export function pageRoutes(): Hono {
  const page = new Hono();
  page.get("/", (c) => {
    // Mounted (`parent.route("/relay", app)`), "/" is "/relay": redirect to "/relay/" so the page's relative
    // asset and API URLs resolve under the mount.
    const url = new URL(c.req.url);
    if (!url.pathname.endsWith("/")) return c.redirect(`${url.pathname}/${url.search}`, 308);
    return serveAsset(c.req.raw, PAGE_HTML, "text/html; charset=utf-8");
  });
  page.get("/page/style.css", (c) => serveAsset(c.req.raw, PAGE_CSS, "text/css; charset=utf-8"));
  page.get("/page/app.js", (c) => serveAsset(c.req.raw, PAGE_SCRIPT, "text/javascript; charset=utf-8"));
  return page;
}

/**
 * The page at a mount's trailing slash ("/relay/" when mounted at "/relay"), which no route of the page can name
 * (a route "/" becomes "/relay" under the mount). The app's catch-all asks here first: its own route is
 * "<mount>/*", so the mount's slash is that route without its `*`. Not a route with a regular expression (the
 * old `/:trailingSlash{^$}`): Hono's fast router refuses it, and every request paid for the slower one.
 */
export function pageAtMountSlash(c: Context): Response | undefined {
  if (!c.req.routePath.endsWith("/*") || c.req.path !== c.req.routePath.slice(0, -1)) return undefined;
  if (c.req.method !== "GET" && c.req.method !== "HEAD") {
    throw new ProblemError("method_not_allowed", `${c.req.method} is not allowed here; use GET, HEAD`, {
      headers: { allow: "GET, HEAD" },
    });
  }
  return serveAsset(c.req.raw, PAGE_HTML, "text/html; charset=utf-8");
}

function serveAsset(request: Request, asset: PageAsset, contentType: string): Response {
  // Revalidate every time (no-cache) but answer 304 when nothing changed: deploys take effect at once.
  const headers = new Headers({ ...SECURITY_HEADERS, etag: asset.etag, "cache-control": "no-cache" });
  if (matchesEtag(request.headers.get("if-none-match"), asset.etag))
    return new Response(null, { status: 304, headers });
  headers.set("content-type", contentType);
  return new Response(request.method === "HEAD" ? null : asset.body, { status: 200, headers });
}

/** If-None-Match: `*`, or a comma-separated list of (possibly weak) ETags. */
function matchesEtag(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((candidate) => {
    const tag = candidate.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}
