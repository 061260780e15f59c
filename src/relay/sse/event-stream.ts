import { encodeShared } from "./shared-bytes.ts";

/**
 * The body of one SSE response: a web-standard ReadableStream the session enqueues ready bytes into.
 *
 * Why not Hono's `streamSSE`: it puts a TransformStream between the writer and the response, so every frame to
 * every subscriber costs a write promise, a transform, an enqueue and a read before the runtime sees it, and the
 * text is encoded again for each subscriber. Here a frame goes straight to the runtime's pending read when the
 * runtime is waiting for more (a client that keeps up: the write returns `undefined`, nothing to wait for), and
 * the same frame text written to many streams in a row is encoded once (docs/sse.md, "The delivery hub").
 * Otherwise the frame is queued and the write's promise settles once the runtime has taken everything queued:
 * a client that stopped reading is seen by its next write, heartbeats included, which the session bounds.
 */
export interface EventStream {
  /**
   * The response body; null when the entry sends the bytes itself (Node writes them to the socket: see
   * `AppOptions.eventStreams`).
   */
  readonly body: ReadableStream<Uint8Array> | null;
  /** Ended by `abort()`: the client went away (the body was cancelled) or the session gave up on it. */
  readonly aborted: boolean;
  readonly closed: boolean;
  /** The runtime waits for bytes with nothing queued: a write now returns `undefined`. */
  readonly waiting: boolean;
  /**
   * Sends `text`. `undefined` when the runtime was waiting for it (the common case); otherwise a promise that
   * settles once the runtime has taken everything queued (the caller bounds the wait). Ignored after close or
   * abort.
   */
  write(text: string | Uint8Array): Promise<void> | undefined;
  /** Ends the body after what is queued. */
  close(): void;
  /**
   * Ends the body (a client still reading gets what was queued, then the end) and tells the `onAbort` listeners;
   * writes after it are ignored. Idempotent.
   */
  abort(): void;
  onAbort(listener: () => void): void;
}

/** An EventStream whose bytes a web ReadableStream carries (every runtime's default). */
export type WebEventStream = EventStream & { readonly body: ReadableStream<Uint8Array> };

/**
 * @param signal the request's signal, which aborts the stream: on some runtimes the only notice that the client
 *   went away (Workers with enable_request_signal), where the body is never cancelled.
 */
export function createEventStream(signal?: AbortSignal): WebEventStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let aborted = false;
  let closed = false;
  let resumeWriter: (() => void) | undefined;
  /** The runtime has a read pending on an empty queue: with highWaterMark 0, exactly when `pull` runs. */
  let reading = false;
  const abortListeners: (() => void)[] = [];

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        reading = true;
        release();
      },
      cancel() {
        abort();
      },
    },
    { highWaterMark: 0 },
  );

  function release() {
    const resume = resumeWriter;
    resumeWriter = undefined;
    resume?.();
  }

  function abort() {
    if (aborted) return;
    aborted = true;
    signal?.removeEventListener("abort", abort);
    if (!closed) {
      closed = true;
      try {
        controller.close();
      } catch {
        // Already cancelled by the runtime.
      }
    }
    release();
    for (const listener of abortListeners.splice(0)) {
      try {
        listener();
      } catch {
        // A listener must not stop the others.
      }
    }
  }

  if (signal?.aborted) abort();
  else signal?.addEventListener("abort", abort);

  return {
    body,
    get aborted() {
      return aborted;
    },
    get closed() {
      return closed;
    },
    get waiting() {
      return reading && !closed;
    },
    write(text) {
      if (closed) return undefined;
      const taken = reading;
      reading = false;
      controller.enqueue(typeof text === "string" ? encodeShared(text) : text);
      if (taken) return undefined;
      return new Promise<void>((resolve) => {
        resumeWriter = resolve;
      });
    },
    close() {
      if (closed) return;
      closed = true;
      signal?.removeEventListener("abort", abort);
      controller.close();
      release();
    },
    abort,
    onAbort(listener) {
      abortListeners.push(listener);
    },
  };
}
