import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

/** What browsers from any origin may send and read (docs/api.md). */
export interface CorsPolicy {
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds: number;
}

/**
 * CORS for the API, any origin (tokens travel in headers, never cookies). Preflights (OPTIONS) are answered by
 * hono/cors. Other responses get their two headers once the handler has answered: hono/cors sets them on
 * `c.res` before the handler runs, and Hono then copies that placeholder into the handler's response, which on
 * Node turns @hono/node-server's light response into a full web Response whose body is read back as a stream
 * (about a sixth of the relay's CPU per long-poll answer, docs/benchmarks.md).
 */
export function corsForAnyOrigin(policy: CorsPolicy): MiddlewareHandler {
  const preflight = cors({
    origin: "*",
    allowMethods: policy.allowMethods,
    allowHeaders: policy.allowHeaders,
    exposeHeaders: policy.exposeHeaders,
    maxAge: policy.maxAgeSeconds,
  });
  const exposed = policy.exposeHeaders.join(",");
  return async (c, next) => {
    if (c.req.method === "OPTIONS") return preflight(c, next);
    await next();
    setResponseHeader(c, "Access-Control-Allow-Origin", "*");
    setResponseHeader(c, "Access-Control-Expose-Headers", exposed);
  };
}

/**
 * Sets a header on the response a handler produced. A response passed through from a fetch (a Durable Object's,
 * on Workers) has immutable headers: it is re-wrapped once, keeping its body and status.
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(name, value);
  }
}
