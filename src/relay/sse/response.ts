import type { Context } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { SSE_HEADERS } from "./frame.ts";

/**
 * Hono's `streamSSE` with the relay's headers (design §4). The callback's errors never reach `app.onError`
 * (the headers are out), so streams end themselves; anything thrown is logged by Hono and the stream closes.
 */
export function eventStreamResponse(c: Context, body: (stream: SSEStreamingApi) => Promise<void>): Response {
  const response = streamSSE(c, body);
  // Set on both: Hono merges the context's headers (where streamSSE wrote its own) into the returned response.
  for (const [name, value] of Object.entries(SSE_HEADERS)) {
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
