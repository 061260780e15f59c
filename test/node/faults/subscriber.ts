import { readSse } from "../../scenarios/sse-stream.ts";
import type { Delivery } from "./ledger.ts";

export interface Subscriber {
  deliveries: Delivery[];
  /** Connections opened (the first one included) and the statuses they answered. */
  connects: Array<number | "network">;
  /** Date.now() of every end of a 200 stream (server ended it, or it was cut). */
  endedAt: number[];
  close(): void;
}

/** How long EventSource waits before reconnecting here (the relay sends `retry: 1000`; shorter keeps tests fast). */
const RECONNECT_MS = 200;

/**
 * An SSE subscriber that behaves like EventSource: it reads frames (eventsource-parser, through the scenarios'
 * reader, which also tracks `id:`-only frames), and when the stream ends or fails it reconnects after ~200 ms with
 * `Last-Event-ID`. Records every message (id, seq) and every `event: reset` in arrival order.
 */
export function startSubscriber(url: string, token: string): Subscriber {
  const deliveries: Delivery[] = [];
  const connects: Array<number | "network"> = [];
  const endedAt: number[] = [];
  const controller = new AbortController();
  let lastEventId: string | undefined;

  async function readOnce() {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "text/event-stream" };
    if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: controller.signal });
    } catch {
      connects.push("network");
      return;
    }
    connects.push(response.status);
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      return;
    }
    const stream = readSse(response);
    controller.signal.addEventListener("abort", () => void stream.close(), { once: true });
    try {
      for (;;) {
        const event = await stream.next(3_600_000).catch(() => undefined);
        if (!event) break;
        const at = Date.now();
        if (event.event === "reset") deliveries.push({ kind: "loss", at, detail: event.data });
        else {
          const message = JSON.parse(event.data) as { id: string; data: { seq: number } };
          deliveries.push({ kind: "message", id: message.id, seq: message.data.seq, at });
        }
      }
    } finally {
      lastEventId = stream.lastEventId ?? lastEventId;
      endedAt.push(Date.now());
      await stream.close();
    }
  }

  void (async () => {
    while (!controller.signal.aborted) {
      await readOnce();
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  })();

  return { deliveries, connects, endedAt, close: () => controller.abort() };
}
