import { SseReader } from "../../../src/client/sse-reader.ts";
import { decodeCompoundCursor } from "../../../src/protocol/cursor.ts";
import type { DeliveryLog } from "./ledger.ts";
import { isRetryableProblem, problemCodeOf } from "./outcomes.ts";
import { pause } from "./pause.ts";

/** EventSource has no silence timeout: a stream that only sends heartbeats is kept, which the suite must see. */
const NO_IDLE_TIMEOUT_MS = 3_600_000;
/** Reconnect delay before the server sent a `retry:` (browsers use a few seconds; short keeps the suite fast). */
const DEFAULT_RETRY_MS = 500;

/** One HTTP response of an SSE subscriber, from its headers to its end. */
export interface SseConnection {
  openedAt: number;
  endedAt?: number;
  /** How it ended: cleanly by the server, cut (error), or by the suite. */
  end?: "end" | "error" | "stopped";
  /** A `retry:` field arrived on it (the server invited a reconnect). */
  retry: boolean;
  heartbeats: number;
  /** When the last byte (event or heartbeat) arrived. */
  lastByteAt: number;
}

export interface SseSubscriberOptions {
  relayUrl: string;
  authorization: string;
  /** `/v1/channels/<ch>/events` or `/v1/events?...`. */
  path: string;
  log: DeliveryLog;
}

/**
 * An SSE subscriber that behaves like EventSource: it keeps the last `id:` (also of an id-only frame) and, when
 * a stream ends or breaks, reconnects with `Last-Event-ID` after the server's `retry:` delay. Unlike a browser
 * it also retries a 503 (as the SDK does). Everything it receives goes into its delivery log.
 */
export class SseSubscriber {
  readonly log: DeliveryLog;
  readonly problems: string[] = [];
  readonly connections: SseConnection[] = [];
  lastEventId: string | undefined;
  readonly #options: SseSubscriberOptions;
  readonly #abort = new AbortController();
  #retryMs = DEFAULT_RETRY_MS;
  #loop: Promise<void> | undefined;

  constructor(options: SseSubscriberOptions) {
    this.#options = options;
    this.log = options.log;
  }

  /** Connects; resolves once the first stream stated its position (live, nothing missed from here on). */
  start(): Promise<void> {
    return new Promise((ready) => {
      this.#loop = this.#run(ready);
    });
  }

  /** The connection open now, if any. */
  get current(): SseConnection | undefined {
    const last = this.connections.at(-1);
    return last && last.end === undefined ? last : undefined;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async #run(ready: () => void): Promise<void> {
    const { relayUrl, authorization, path } = this.#options;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const headers: Record<string, string> = { authorization, accept: "text/event-stream" };
      if (this.lastEventId !== undefined) headers["last-event-id"] = this.lastEventId;
      let response: Response;
      try {
        response = await fetch(`${relayUrl}${path}`, { headers, signal });
      } catch {
        await pause(this.#retryMs, signal);
        continue;
      }
      if (response.status !== 200 || !response.body) {
        const text = await response.text().catch(() => "");
        const code = problemCodeOf(response, text);
        if (!isRetryableProblem(response.status, code))
          this.problems.push(
            `${this.log.name}: GET ${path} answered ${response.status}: ${text.slice(0, 200)}`,
          );
        await pause(this.#retryMs, signal);
        continue;
      }
      await this.#read(response.body, ready);
      await pause(this.#retryMs, signal);
    }
    ready(); // stopped before it ever connected: the caller sees that through the missing deliveries
  }

  async #read(body: ReadableStream<Uint8Array>, ready: () => void): Promise<void> {
    const connection: SseConnection = {
      openedAt: Date.now(),
      retry: false,
      heartbeats: 0,
      lastByteAt: Date.now(),
    };
    this.connections.push(connection);
    const decoder = new TextDecoder();
    const watched = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          connection.lastByteAt = Date.now();
          // A heartbeat is one write of its own, so it arrives in one chunk.
          connection.heartbeats += decoder.decode(chunk, { stream: true }).split(": keepalive").length - 1;
          controller.enqueue(chunk);
        },
      }),
    );
    const reader = new SseReader(watched, NO_IDLE_TIMEOUT_MS);
    try {
      for (;;) {
        const item = await reader.next();
        if (item.kind === "position") {
          this.lastEventId = item.id;
          ready();
        } else if (item.kind === "retry") {
          connection.retry = true;
          this.#retryMs = item.ms;
        } else if (item.kind === "event") {
          this.#deliver(item.event.event, item.event.data, item.event.id);
        } else {
          connection.end = this.#abort.signal.aborted ? "stopped" : item.kind === "end" ? "end" : "error";
          return;
        }
      }
    } catch (error) {
      this.problems.push(`${this.log.name}: unreadable frame: ${String(error)}`);
      connection.end = "error";
      reader.cancel();
    } finally {
      connection.endedAt = Date.now();
    }
  }

  #deliver(event: string | undefined, data: string, id: string | undefined): void {
    const body = JSON.parse(data) as { channel: string; id: string; data: { seq: number } };
    if (event === "reset") {
      const position = id === undefined ? undefined : decodeCompoundCursor(id).get(body.channel);
      if (!position) throw new Error(`a reset without a position for ${body.channel}: id ${id}`);
      this.log.reset(position);
    } else {
      this.log.message(body.channel, body.id, body.data.seq);
    }
  }
}
