import { createParser, type EventSourceMessage } from "eventsource-parser";

export interface SseSubscriberOptions {
  /** Full URL of the event stream, e.g. http://127.0.0.1:8787/v1/channels/bench/events. */
  url: string;
  authorization: string;
  /** Called for every `message` event with the parsed message object's `data` field. */
  onMessage(data: unknown, id: string | undefined): void;
  /** Called for `reset` events (a gap the relay admits to). */
  onReset?(data: string): void;
}

export interface SseSubscriber {
  /** Times the stream ended under us and was resumed with Last-Event-ID (slow-consumer close, lifetime). */
  readonly reconnects: number;
  /** What went wrong: a failed reconnect (which stops the subscriber) or a frame that was not a message object. */
  readonly problems: readonly string[];
  /** Aborts the stream; no reconnect follows. */
  close(): void;
}

const DEFAULT_RETRY_MS = 250;

/**
 * An EventSource-like subscriber over Node's fetch and eventsource-parser. It resolves once the response
 * headers arrived, which the relay sends only after its live subscription is confirmed (docs/sse.md), and
 * resumes from the last id when the server closes the stream, as a browser's EventSource would.
 */
export async function openSseSubscriber(options: SseSubscriberOptions): Promise<SseSubscriber> {
  const controller = new AbortController();
  let lastEventId: string | undefined;
  let reconnects = 0;
  const problems: string[] = [];
  let closed = false;
  // Like EventSource: wait before reconnecting, as long as the server's last `retry:` asked.
  let retryMs = DEFAULT_RETRY_MS;

  const parser = createParser({
    onRetry(ms) {
      retryMs = ms;
    },
    onEvent(event: EventSourceMessage) {
      if (event.id !== undefined) lastEventId = event.id;
      if (event.event === "reset") {
        options.onReset?.(event.data);
        return;
      }
      // Other event types, and frames with only an id (the stream stating its position), carry no message.
      if ((event.event !== undefined && event.event !== "message") || event.data === "") return;
      let message: { data?: unknown };
      try {
        message = JSON.parse(event.data) as { data?: unknown };
      } catch {
        if (problems.length < 5) problems.push(`a frame's data is not JSON: ${event.data.slice(0, 200)}`);
        return;
      }
      options.onMessage(message.data, event.id);
    },
  });

  async function connect(): Promise<ReadableStreamDefaultReader<string>> {
    const headers: Record<string, string> = {
      Authorization: options.authorization,
      Accept: "text/event-stream",
    };
    if (lastEventId !== undefined) headers["Last-Event-ID"] = lastEventId;
    const response = await fetch(options.url, { headers, signal: controller.signal });
    if (response.status !== 200 || !response.body) {
      const body = await response.text().catch(() => "");
      throw new Error(`GET ${options.url} answered ${response.status}: ${body.slice(0, 500)}`);
    }
    parser.reset();
    return response.body.pipeThrough(new TextDecoderStream()).getReader();
  }

  async function pump(reader: ReadableStreamDefaultReader<string>) {
    for (;;) {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
      } catch {
        // A cut connection is resumed like a clean end, unless we closed it ourselves.
      }
      if (closed) return;
      reconnects += 1;
      await new Promise((done) => setTimeout(done, retryMs));
      if (closed) return;
      try {
        reader = await connect();
      } catch (cause) {
        if (!closed)
          problems.push(`reconnect failed: ${cause instanceof Error ? cause.message : String(cause)}`);
        return;
      }
    }
  }

  const first = await connect();
  void pump(first);
  return {
    get reconnects() {
      return reconnects;
    },
    get problems() {
      return problems;
    },
    close() {
      closed = true;
      controller.abort();
    },
  };
}
