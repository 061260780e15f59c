import type { Context } from "hono";
import { HEARTBEAT_HEADER, SSE_HEADERS } from "../../protocol/stream-headers.ts";
import type { RelayEnv } from "../context.ts";
import { createEventStream, type EventStream } from "./event-stream.ts";

/** Makes the writer of one SSE response: an entry may send the bytes its own way (AppOptions.eventStreams). */
export type EventStreamFactory = (c: Context<RelayEnv>) => EventStream;

export interface EventStreamOptions {
  /** The stream's heartbeat interval, announced in `Relay-Heartbeat-Ms` so clients size their watchdog by it. */
  heartbeatMs: number;
}

/**
 * An SSE response with the relay's headers (docs/sse.md, plus `Relay-Heartbeat-Ms`) whose body `body` writes.
 * Its errors never reach `app.onError` (the headers are out), so they are logged and the stream closes.
 */
export function eventStreamResponse(
  c: Context<RelayEnv>,
  options: EventStreamOptions,
  body: (stream: EventStream) => Promise<void>,
): Response {
  const stream = c.get("eventStreams")?.(c) ?? createEventStream(c.req.raw.signal);
  // One reaction, not .catch().finally(): it stays pending (with its promises) as long as the stream is open.
  body(stream).then(
    () => stream.close(),
    (error) => {
      console.error("relay: SSE stream failed:", error instanceof Error ? error.message : error);
      stream.close();
    },
  );
  for (const [name, value] of Object.entries(SSE_HEADERS)) c.header(name, value);
  c.header(HEARTBEAT_HEADER, String(options.heartbeatMs));
  return c.newResponse(stream.body);
}
