import assert from "node:assert/strict";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { RelayTarget } from "./harness.ts";

/**
 * Reads an SSE response the way a browser's EventSource would (eventsource-parser), without ever waiting for
 * the body to end: tests take events one by one with a timeout and cancel the reader when done.
 */
export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

export interface SseStream {
  response: Response;
  /** The next event; rejects after `timeoutMs` or when the stream ends first. */
  next(timeoutMs?: number): Promise<SseEvent>;
  /** The next `count` events. */
  take(count: number, timeoutMs?: number): Promise<SseEvent[]>;
  /** Resolves when the server ends the stream (with whatever it sent last). */
  ended(timeoutMs?: number): Promise<void>;
  /** Comment lines seen so far (`: keepalive` → "keepalive"). */
  comments: string[];
  /** The last `retry:` value seen. */
  retry: number | undefined;
  /**
   * What EventSource would send as Last-Event-ID: the last `id:` of a completed frame, also of a frame
   * without data (which eventsource-parser does not report, so it is tracked from the raw lines here).
   */
  lastEventId: string | undefined;
  /** Events that arrived and were not taken yet. */
  pending(): SseEvent[];
  /** Cancels the body (the client goes away). Idempotent. */
  close(): Promise<void>;
}

/** How long a test waits for something that should happen "now" on a loaded 2-core machine. */
export const EVENT_TIMEOUT_MS = 15_000;

/** Opens an SSE stream and asserts the 200 and event-stream headers; other statuses fail with the body shown. */
export async function openSse(target: RelayTarget, path: string, init: RequestInit = {}): Promise<SseStream> {
  const response = await target.fetch(path, init);
  if (response.status !== 200) {
    const body = await response.text();
    assert.fail(
      `expected an event stream from ${path.replace(/access_token=[^&]+/, "access_token=…")}, got ${response.status}: ${body}`,
    );
  }
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  return readSse(response);
}

export function readSse(response: Response): SseStream {
  assert.ok(response.body, "an event stream has a body");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const queue: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  let done = false;
  let closed = false;
  const stream: SseStream = {
    response,
    comments: [],
    retry: undefined,
    lastEventId: undefined,
    async next(timeoutMs = EVENT_TIMEOUT_MS) {
      await until(() => queue.length > 0 || done, timeoutMs, "the next SSE event");
      const event = queue.shift();
      if (!event) assert.fail("the stream ended before the next event");
      return event;
    },
    async take(count, timeoutMs = EVENT_TIMEOUT_MS) {
      const events: SseEvent[] = [];
      for (let i = 0; i < count; i++) events.push(await stream.next(timeoutMs));
      return events;
    },
    async ended(timeoutMs = EVENT_TIMEOUT_MS) {
      await until(() => done, timeoutMs, "the end of the stream");
    },
    pending: () => [...queue],
    async close() {
      if (closed) return;
      closed = true;
      await reader.cancel().catch(() => {});
    },
  };
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      queue.push({ id: message.id, event: message.event, data: message.data });
      wake();
    },
    onComment(comment) {
      stream.comments.push(comment.trim());
      wake();
    },
    onRetry(retry) {
      stream.retry = retry;
    },
  });
  // The WHATWG rule: an `id:` line sets the last-event-ID buffer; a blank line (a dispatch) commits it.
  let partial = "";
  let idBuffer: string | undefined;
  function trackIds(chunk: string) {
    const lines = (partial + chunk).split(/\r\n|\r|\n/);
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") {
        if (idBuffer !== undefined) stream.lastEventId = idBuffer;
      } else if (line.startsWith("id:")) {
        const value = line.slice(line.startsWith("id: ") ? 4 : 3);
        if (!value.includes("\0")) idBuffer = value;
      }
    }
  }
  function wake() {
    for (const waiter of waiters.splice(0)) waiter();
  }
  function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (condition()) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      const timer = setTimeout(() => {
        const index = waiters.indexOf(check);
        if (index >= 0) waiters.splice(index, 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      check();
    });
  }
  void (async () => {
    try {
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        trackIds(value);
        parser.feed(value);
      }
    } catch {
      // Cancelled or cut: both end the stream.
    } finally {
      done = true;
      wake();
    }
  })();
  return stream;
}

/** Waits until `check` passes (it throws or returns false until then), polling every 100 ms. */
export async function eventually(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
