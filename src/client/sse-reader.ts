import { createParser, type EventSourceMessage } from "eventsource-parser";

/** One thing read off an SSE response. */
export type SseItem =
  | { kind: "event"; event: EventSourceMessage }
  /**
   * The stream's last event id changed (what EventSource would send as `Last-Event-ID` now). Reported for every
   * dispatched frame, also one with an `id:` and no `data:` (which eventsource-parser does not report), and
   * before that frame's event.
   */
  | { kind: "position"; id: string }
  /** A `retry:` field: the server's reconnect delay in ms. */
  | { kind: "retry"; ms: number }
  /** The server ended the response cleanly. */
  | { kind: "end" }
  /** Nothing arrived for `idleMs` while we were waiting; `sawBytes` tells a dead stream from a buffered one. */
  | { kind: "idle"; sawBytes: boolean }
  /** The connection broke mid-stream. */
  | { kind: "error"; error: unknown };

const LINE_END = /\r\n|\r|\n/;

/**
 * Pull-based SSE reader over a streamed fetch body. The idle clock runs only while we wait on the
 * network (never while the consumer is busy), so a slow consumer is not mistaken for a silent server.
 * Comments (heartbeats) count as liveness but are not surfaced.
 *
 * Lines are split here (CR, LF or CRLF, also when a CRLF straddles two chunks) and fed to eventsource-parser
 * one by one, so the `id:` bookkeeping of the WHATWG rules runs in step with the events: an `id:` line fills the
 * last-event-id buffer, a blank line commits it, whether or not the frame had data.
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
  /** The unterminated tail of the text read so far. */
  #partial = "";
  /** The last chunk ended in CR: a LF starting the next one belongs to that line end. */
  #afterCr = false;
  /** The last-event-id buffer (WHATWG): set by `id:`, kept across frames. */
  #idBuffer: string | undefined;
  /** The id last reported as a position. */
  #lastEventId: string | undefined;
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
        // A final frame without its blank line is incomplete: EventSource drops it too.
        continue;
      }
      if (chunk.value.length > 0) this.#sawBytes = true;
      this.#feed(this.#decoder.decode(chunk.value, { stream: true }));
    }
  }

  /** Stops reading and releases the connection. Idempotent. */
  cancel(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#reader.cancel().catch(() => {});
  }

  #feed(text: string): void {
    if (text.length === 0) return; // a multi-byte character still incomplete: keep #afterCr as it is
    if (this.#afterCr && text.startsWith("\n")) text = text.slice(1);
    this.#afterCr = text.endsWith("\r");
    const lines = (this.#partial + text).split(LINE_END);
    this.#partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") this.#commitId();
      else this.#readId(line);
      this.#parser.feed(`${line}\n`);
    }
  }

  /** An `id` field (`id: x`, `id:x`, or a bare `id` = empty); a value with NUL is ignored, as the spec says. */
  #readId(line: string): void {
    if (line !== "id" && !line.startsWith("id:")) return;
    const value = line.startsWith("id: ") ? line.slice(4) : line.slice(3);
    if (!value.includes("\0")) this.#idBuffer = value;
  }

  /** A blank line dispatches the frame: its id becomes the last event id, before its event is delivered. */
  #commitId(): void {
    if (this.#idBuffer === undefined || this.#idBuffer === this.#lastEventId) return;
    this.#lastEventId = this.#idBuffer;
    this.#pending.push({ kind: "position", id: this.#idBuffer });
  }
}
