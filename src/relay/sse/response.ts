import type { Context } from "hono";
import { HEARTBEAT_HEADER, SSE_HEADERS } from "../../protocol/stream-headers.ts";
import { createEventStream, type EventStream } from "./event-stream.ts";

export interface EventStreamOptions {
  /** The stream's heartbeat interval, announced in `Relay-Heartbeat-Ms` so clients size their watchdog by it. */
  heartbeatMs: number;
}

/**
 * An SSE response with the relay's headers (docs/sse.md, plus `Relay-Heartbeat-Ms`) whose body `body` writes.
 * Its errors never reach `app.onError` (the headers are out), so they are logged and the stream closes.
 */
export function eventStreamResponse(
  c: Context,
  options: EventStreamOptions,
  body: (stream: EventStream) => Promise<void>,
): Response {
  const stream = createEventStream();
  void body(stream)
    .catch((error) =>
      console.error("relay: SSE stream failed:", error instanceof Error ? error.message : error),
    )
    .finally(() => stream.close());
  for (const [name, value] of Object.entries(SSE_HEADERS)) c.header(name, value);
  c.header(HEARTBEAT_HEADER, String(options.heartbeatMs));
  return c.newResponse(stream.body);
}
