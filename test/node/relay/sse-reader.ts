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
