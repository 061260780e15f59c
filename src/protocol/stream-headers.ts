/**
 * The headers and keepalive of every event stream this project serves: the relay's SSE streams and the proxy's
 * subscribe streams (docs/sse.md). Plain constants (no zod) so the client SDK shares them without pulling in the
 * relay's validation.
 */

/**
 * What every event stream answers with: no caching or transformation on the way (`no-transform` keeps gzip
 * proxies out), no buffering in nginx (`X-Accel-Buffering`), and `Content-Encoding: Identity` as insurance
 * against compression middleware, which would hold frames back until a buffer fills.
 */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
  "Content-Encoding": "Identity",
};

/** The comment frame that keeps proxies from timing out an idle stream (and reveals a gone client). */
export const KEEPALIVE_FRAME = ": keepalive\n\n";

/**
 * `Relay-Heartbeat-Ms: <ms>`: the interval of the stream's `: keepalive` comments (RELAY_HEARTBEAT_MS). A header
 * reaches the client even through a proxy that buffers the body, so a client can size its silence watchdog
 * from it instead of guessing the default.
 */
export const HEARTBEAT_HEADER = "Relay-Heartbeat-Ms";
