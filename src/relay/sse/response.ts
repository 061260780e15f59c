import type { Context } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { HEARTBEAT_HEADER, SSE_HEADERS } from "../../protocol/stream-headers.ts";

export interface EventStreamOptions {
  /** The stream's heartbeat interval, announced in `Relay-Heartbeat-Ms` so clients size their watchdog by it. */
  heartbeatMs: number;
}

/**
 * Hono's `streamSSE` with the relay's headers (docs/sse.md, plus `Relay-Heartbeat-Ms`). The callback's errors
 * never reach `app.onError` (the headers are out), so streams end themselves; anything thrown is logged by
 * Hono and the stream closes.
 */
export function eventStreamResponse(
  c: Context,
  options: EventStreamOptions,
  body: (stream: SSEStreamingApi) => Promise<void>,
): Response {
  const response = streamSSE(c, body);
  const headers = { ...SSE_HEADERS, [HEARTBEAT_HEADER]: String(options.heartbeatMs) };
  // Set on both: Hono merges the context's headers (where streamSSE wrote its own) into the returned response.
  for (const [name, value] of Object.entries(headers)) {
    c.header(name, value);
    response.headers.set(name, value);
  }
  // Hop-by-hop headers streamSSE adds: HTTP/2 forbids them and every runtime frames the body itself.
  for (const name of ["Transfer-Encoding", "Connection"]) {
    c.header(name, undefined);
    response.headers.delete(name);
  }
  return response;
}
