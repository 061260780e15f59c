import { createParser, type EventSourceMessage } from "eventsource-parser";

/** One thing read off an SSE response. */
export type SseItem =
  | { kind: "event"; event: EventSourceMessage }
  /** A `retry:` field: the server's reconnect delay in ms. */
  | { kind: "retry"; ms: number }
  /** The server ended the response cleanly. */
  | { kind: "end" }
  /** Nothing arrived for `idleMs` while we were waiting; `sawBytes` tells a dead stream from a buffered one. */
  | { kind: "idle"; sawBytes: boolean }
  /** The connection broke mid-stream. */
  | { kind: "error"; error: unknown };

/**
 * Pull-based SSE reader over a streamed fetch body. The idle clock runs only while we wait on the
 * network (never while the consumer is busy), so a slow consumer is not mistaken for a silent server.
 * Comments (heartbeats) count as liveness but are not surfaced.
 */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  readonly #idleMs: number;
  readonly #pending: SseItem[] = [];
  readonly #parser = createParser({
    onEvent: (event) => this.#pending.push({ kind: "event", event }),
    onRetry: (ms) => this.#pending.push({ kind: "retry", ms }),
  });
  #sawBytes = false;
  #finished = false;

  constructor(body: ReadableStream<Uint8Array>, idleMs: number) {
    this.#reader = body.getReader();
    this.#idleMs = idleMs;
  }

  /** True once any byte (event or heartbeat) arrived on this stream. */
  get sawBytes(): boolean {
    return this.#sawBytes;
  }

  async next(): Promise<SseItem> {
    for (;;) {
      const queued = this.#pending.shift();
      if (queued) return queued;
      if (this.#finished) return { kind: "end" };
      let timer: ReturnType<typeof setTimeout> | undefined;
      const idle = new Promise<"idle">((resolve) => {
        timer = setTimeout(() => resolve("idle"), this.#idleMs);
      });
      let chunk: ReadableStreamReadResult<Uint8Array> | "idle";
      try {
        chunk = await Promise.race([this.#reader.read(), idle]);
      } catch (error) {
        this.#finished = true;
        return { kind: "error", error };
      } finally {
        clearTimeout(timer);
      }
      if (chunk === "idle") {
        this.cancel();
        return { kind: "idle", sawBytes: this.#sawBytes };
      }
      if (chunk.done) {
        this.#finished = true;
        // A final event without its blank line is incomplete: EventSource drops it too.
        continue;
      }
      if (chunk.value.length > 0) this.#sawBytes = true;
      this.#parser.feed(this.#decoder.decode(chunk.value, { stream: true }));
    }
  }

  /** Stops reading and releases the connection. Idempotent. */
  cancel(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#reader.cancel().catch(() => {});
  }
}
