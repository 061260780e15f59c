import { createParser, type EventSourceMessage } from "eventsource-parser";

/**
 * One upstream subscribe stream of the Upstash REST protocol, read with `fetch` (docs/sse.md, "The upstream
 * feed"): `POST <url>/subscribe/<channel>` or `/psubscribe/<pattern>` with `Accept: text/event-stream`, then
 * one `data:` line per event: `subscribe,<ch>,<n>` (or `psubscribe,<pat>,<n>`) once Redis confirmed, then
 * `message,<ch>,<payload>` / `pmessage,<pat>,<ch>,<payload>`.
 *
 * Why not `@upstash/redis`'s `Subscriber` (everything else still goes through `@upstash/redis`): its reader runs
 * in a detached loop and, when the HTTP stream ends (the endpoint restarted or closed it) or fails, it only
 * logs or stops silently. No event reaches the caller, so a relay stream would send heartbeats over a dead feed
 * until rotation. It also joins names into the URL unencoded (a `?` in a pattern starts a query string). This
 * client reports the confirmation (every one: a repeat says the endpoint subscribed again after losing Redis),
 * each message, and the end of the stream, whatever ended it, exactly once; it is cancelled by an
 * AbortController it owns.
 */

export type UpstreamKind = "channel" | "pattern";

/** Where the upstream streams go: the Upstash REST URL and token (RelayConfig.upstash). */
export interface UpstreamEndpoint {
  url: string;
  token: string;
  /** Incremented once per HTTP request (each is one Workers subrequest, for the stream's whole life). */
  counter?: { count: number };
}

/** One message as it arrived on an upstream subscribe/psubscribe stream (payload untouched). */
export interface UpstreamMessage {
  /** The Redis pub/sub channel the message was published on. */
  channel: string;
  /** The pattern that matched, for psubscribe streams, as subscribed. */
  pattern?: string;
  /** The payload text, as the subscribe stream carried it (one line). */
  payload: string;
}

export interface UpstreamStreamHandlers {
  /** A `subscribe`/`psubscribe` line: the first confirms the subscription; a repeat means it was restored. */
  onConfirmed(): void;
  onMessage(message: UpstreamMessage): void;
  /**
   * The stream is over: it ended (the endpoint closed it) or failed (network, HTTP status, bad content type).
   * Called once; never after `close()`.
   */
  onEnd(error: Error): void;
}

export interface UpstreamStream {
  /** Aborts the request. Idempotent; `onEnd` is not called afterwards. */
  close(): void;
  readonly closed: boolean;
}

/** Thrown into `onEnd` when the endpoint answered something else than an event stream. */
export class UpstreamStreamError extends Error {
  override name = "UpstreamStreamError";
}

export function openUpstreamStream(
  endpoint: UpstreamEndpoint,
  kind: UpstreamKind,
  name: string,
  handlers: UpstreamStreamHandlers,
): UpstreamStream {
  const controller = new AbortController();
  let closed = false;
  let over = false;

  function finish(error: unknown) {
    if (closed || over) return;
    over = true;
    controller.abort();
    handlers.onEnd(error instanceof Error ? error : new Error(String(error)));
  }

  const parser = createParser({
    onEvent(event: EventSourceMessage) {
      if (closed || over) return;
      const line = parseStreamLine(kind, event.data);
      if (line === null) return;
      if (line.type === "confirmed") handlers.onConfirmed();
      else handlers.onMessage(line.message);
    },
  });

  async function read() {
    const path = `${kind === "channel" ? "subscribe" : "psubscribe"}/${encodeStreamName(name)}`;
    if (endpoint.counter) endpoint.counter.count += 1;
    const response = await fetch(`${endpoint.url}/${path}`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${endpoint.token}`,
        Accept: "text/event-stream",
        "Content-Type": "application/json",
      },
      body: "[]",
      signal: controller.signal,
    });
    if (!response.ok) {
      const detail = await response.text().catch(() => "");
      throw new UpstreamStreamError(`${path} answered ${response.status}: ${errorText(detail)}`);
    }
    const type = response.headers.get("content-type") ?? "";
    if (!type.toLowerCase().startsWith("text/event-stream") || !response.body) {
      await response.body?.cancel().catch(() => {});
      throw new UpstreamStreamError(`${path} answered ${type || "no content type"}, not an event stream`);
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let pending = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pending += value;
      let start = 0;
      for (let newline = pending.indexOf("\n"); newline !== -1; newline = pending.indexOf("\n", start)) {
        // Upstash's docs show one `data:` line per event with no blank line between events; a blank line after
        // each line dispatches it at once either way (the format is line-based: a payload never spans lines).
        parser.feed(`${pending.slice(start, newline)}\n\n`);
        start = newline + 1;
      }
      pending = pending.slice(start);
    }
    throw new UpstreamStreamError(`${path}: the upstream closed the stream`);
  }
  read().catch(finish);

  return {
    close() {
      if (closed) return;
      closed = true;
      controller.abort();
    },
    get closed() {
      return closed;
    },
  };
}

type StreamLine = { type: "confirmed" } | { type: "message"; message: UpstreamMessage };

/**
 * One `data:` payload of the stream, or null for a line of another kind (unsubscribe, anything unknown). Names
 * never hold a comma (the relay's channel and pattern rules exclude it), so the payload is everything after the
 * name fields, commas included.
 */
export function parseStreamLine(kind: UpstreamKind, data: string): StreamLine | null {
  const first = data.indexOf(",");
  if (first === -1) return null;
  const type = data.slice(0, first);
  if (type === (kind === "channel" ? "subscribe" : "psubscribe")) return { type: "confirmed" };
  const second = data.indexOf(",", first + 1);
  if (second === -1) return null;
  if (kind === "channel" && type === "message") {
    return {
      type: "message",
      message: { channel: data.slice(first + 1, second), payload: data.slice(second + 1) },
    };
  }
  if (kind === "pattern" && type === "pmessage") {
    const third = data.indexOf(",", second + 1);
    if (third === -1) return null;
    return {
      type: "message",
      message: {
        pattern: data.slice(first + 1, second),
        channel: data.slice(second + 1, third),
        payload: data.slice(third + 1),
      },
    };
  }
  return null;
}

/**
 * A channel or pattern as one path segment: percent-encoded where the path would otherwise change meaning
 * (`/ ? # %`, braces, `^`), literal where URL parsers leave it alone (`:` `[` `]` ...), so the endpoint sees
 * what `@upstash/redis` would send for the same name, minus its breakage on `?` and `#`.
 */
export function encodeStreamName(name: string): string {
  return encodeURIComponent(name).replace(/%(3A|40|24|26|2B|2C|3B|3D|5B|5D)/g, (sequence) =>
    decodeURIComponent(sequence),
  );
}

function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === "string") return parsed.error;
  } catch {
    // not JSON: the text itself
  }
  return body.slice(0, 200) || "(empty body)";
}
