import { connect, type Socket } from "node:net";
import { createParser } from "eventsource-parser";

export interface ReadSseEvent {
  id?: string;
  event?: string;
  data: string;
  /** Date.now() when the frame was parsed (for delivery latency). */
  receivedAt: number;
}

export interface OpenSse {
  status: number;
  events: ReadSseEvent[];
  /** The last `id:` seen (from any frame, as EventSource keeps it). */
  lastId(): string | undefined;
  /** Resolves with Date.now() when the server ended the stream. */
  ended: Promise<number>;
  readonly isEnded: boolean;
  close(): void;
}

/** A plain SSE reader over fetch, keeping every frame and the time the stream ended (tests only). */
export async function openSse(url: string, token: string, lastEventId?: string): Promise<OpenSse> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
  const response = await fetch(url, { headers, signal: controller.signal });
  const events: ReadSseEvent[] = [];
  let lastId = lastEventId;
  let isEnded = false;
  const parser = createParser({
    onEvent(event) {
      if (event.id !== undefined) lastId = event.id;
      if (event.data !== "" || event.event !== undefined) {
        events.push({ id: event.id, event: event.event, data: event.data, receivedAt: Date.now() });
      }
    },
  });
  const ended = (async () => {
    if (!response.body) return Date.now();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } catch {
      // cut by the server (abort) or by close(): ended either way
    }
    isEnded = true;
    return Date.now();
  })();
  return {
    status: response.status,
    events,
    lastId: () => lastId,
    ended,
    get isEnded() {
      return isEnded;
    },
    close: () => controller.abort(),
  };
}

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Opens an SSE stream on a raw socket, waits for the response head, then stops reading (a client that keeps its
 * connection but reads nothing). Resolves with the socket and the head; the caller destroys the socket.
 */
export async function openStalledSse(url: string, token: string): Promise<{ socket: Socket; head: string }> {
  const { hostname, port, pathname, search } = new URL(url);
  const socket = connect(Number(port), hostname);
  const head = await new Promise<string>((resolve, reject) => {
    let received = "";
    socket.on("error", reject);
    socket.on("data", function onData(chunk: Buffer) {
      received += chunk.toString("latin1");
      if (received.includes("\r\n\r\n")) {
        socket.off("data", onData);
        socket.pause();
        resolve(received);
      }
    });
    socket.write(
      `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`,
    );
  });
  return { socket, head };
}
