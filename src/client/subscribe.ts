import type { EventSourceMessage } from "eventsource-parser";
import { decodeCompoundCursor, encodeCursor } from "../protocol/cursor.ts";
import { RESET_REASONS } from "../protocol/message-shape.ts";
import { HEARTBEAT_HEADER } from "../protocol/stream-headers.ts";
import { type BackoffOptions, backoffDelay, sleep } from "./backoff.ts";
import type { Channels } from "./channels.ts";
import { CLIENT_ERROR_CODES, errorFromResponse, RelayError } from "./errors.ts";
import { isTransient, longPoll } from "./long-poll.ts";
import { SseReader } from "./sse-reader.ts";
import { describe, type Transport } from "./transport.ts";
import type { RelayMessage, ResetNotice, SubscriptionEvent } from "./types.ts";

export interface SubscribeOptions {
  /** Pattern subscriptions (`sensors.*`); need a `subscribe:` scope that matches the pattern itself. */
  patterns?: readonly string[];
  /** Resume strictly after this cursor (a message `id`, or a stream id from an earlier subscription). */
  after?: string;
  /**
   * Aborting ends the iteration quietly and closes the connection, at once, whatever the iterator is waiting on
   * (the response, the next byte, a long-poll, a reconnect delay).
   */
  signal?: AbortSignal;
  /**
   * The relay's heartbeat interval. Two intervals without a byte mean a dead connection (reconnect) or, if the
   * stream never produced a byte, a buffering proxy (long-poll fallback). Default: what the relay announces in
   * its `Relay-Heartbeat-Ms` response header, else 15000 (the relay's default `RELAY_HEARTBEAT_MS`). When set,
   * it wins over the header.
   */
  heartbeatMs?: number;
  /** `auto` (default): SSE, long-poll when SSE is buffered. `sse` never falls back; `long-poll` never streams. */
  transport?: "auto" | "sse" | "long-poll";
  /** Reconnect delays (default 250 ms doubling to 30 s, with jitter). */
  backoff?: BackoffOptions;
  /** Progress: connects, drops, fallbacks. For logs and UI; never needed for correctness. */
  onStatus?: (status: SubscriptionStatus) => void;
}

export type SubscriptionStatus =
  | { state: "connecting"; attempt: number }
  | { state: "open" }
  | { state: "reconnecting"; delayMs: number; reason: string }
  | { state: "long-poll"; reason: string };

const LAST_EVENT_ID = "last-event-id";

/**
 * Subscribes to channels (and patterns) as an async iterator. Over SSE (streamed fetch, so the token goes in a
 * header) it reconnects with backoff and jitter, resumes from the last cursor via `Last-Event-ID` (no gap, no
 * duplicate), asks `getToken()` again on every reconnect, and falls back to long-poll behind buffering proxies.
 */
export async function* subscribe(
  transport: Transport,
  channels: Channels,
  channelNames: readonly string[],
  options: SubscribeOptions = {},
): AsyncGenerator<SubscriptionEvent> {
  const patterns = [...(options.patterns ?? [])];
  const names = [...channelNames];
  if (names.length + patterns.length === 0)
    throw new TypeError("subscribe needs at least one channel or pattern");
  for (const name of [...names, ...patterns]) {
    if (typeof name !== "string" || name.length === 0)
      throw new TypeError("channel and pattern names must be non-empty strings");
  }
  /** Silence that ends a connection: two heartbeats, from the option, else from the relay's last announcement. */
  let idleMs = 2 * (options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  const report = options.onStatus ?? (() => {});
  const outer = options.signal;

  /** The stream position to resume from: the last `id:` the relay sent (compound on multi-channel streams). */
  let lastEventId = options.after;
  /** Per-channel single cursors, for the long-poll fallback and duplicate suppression. */
  const cursors = new Map<string, string>();

  let mode = options.transport ?? "auto";
  let fallbackReason = "long-poll requested";
  let attempt = 0;
  let retryMs: number | undefined;
  let refreshedAfter401 = false;
  let reader: SseReader | undefined;
  let connection: AbortController | undefined;
  // Straight from the caller's signal to what this generator holds: the signal that fetch got reaches the
  // connection only while a Request object lives (see abort.ts), and cancelling the reader closes it for sure.
  const abortConnection = () => {
    connection?.abort();
    reader?.cancel();
  };
  outer?.addEventListener("abort", abortConnection);

  const longPollFor = (reason: string): AsyncGenerator<SubscriptionEvent> => {
    if (patterns.length > 0) {
      throw new RelayError({
        code: CLIENT_ERROR_CODES.streamBuffered,
        status: 0,
        detail: `${reason}; long-poll cannot serve pattern subscriptions (${patterns.join(", ")}): turn off response buffering for text/event-stream on the proxy in between`,
      });
    }
    // The stream's last id positions every channel it has seen; per-message ids fill in the rest.
    if (lastEventId) {
      try {
        for (const [channel, position] of decodeCompoundCursor(lastEventId)) {
          if (names.includes(channel)) cursors.set(channel, encodeCursor(position));
        }
      } catch {
        // Not a cursor this client understands: the per-message ids are all we have.
      }
    }
    report({ state: "long-poll", reason });
    return longPoll(channels, {
      channels: names,
      cursors,
      signal: outer ?? new AbortController().signal,
      backoff: options.backoff ?? {},
      onRetry: (error, delayMs) => report({ state: "reconnecting", delayMs, reason: String(error) }),
    });
  };

  try {
    while (!outer?.aborted) {
      if (mode === "long-poll") {
        yield* longPollFor(fallbackReason);
        return;
      }
      report({ state: "connecting", attempt });
      connection = new AbortController();
      const token = await transport.token();
      const spec = {
        method: "GET" as const,
        path: "v1/events",
        query: { channel: names, pattern: patterns },
        headers: { accept: "text/event-stream", ...(lastEventId ? { [LAST_EVENT_ID]: lastEventId } : {}) },
        signal: connection.signal,
      };
      // A proxy that buffers the whole response never even sends headers: the idle clock covers the connect too.
      let headersLate = false;
      const connectTimer = setTimeout(() => {
        headersLate = true;
        connection?.abort();
      }, idleMs);
      let response: Response;
      try {
        response = await transport.fetchOnce(spec, token);
      } catch (error) {
        if (outer?.aborted) return;
        // Only "no answer" is worth another try; anything else (an `after` fetch refuses as a header) is a bug to show.
        if (!headersLate && !isTransient(error)) throw error;
        if (headersLate && mode === "auto") {
          mode = "long-poll";
          fallbackReason = `no response headers within ${idleMs} ms: a proxy is buffering the stream`;
          continue;
        }
        await backOff(headersLate ? `no response headers within ${idleMs} ms` : String(error));
        continue;
      } finally {
        clearTimeout(connectTimer);
      }

      if (!response.ok) {
        if (response.status === 401 && transport.canRefreshToken && !refreshedAfter401) {
          refreshedAfter401 = true;
          await response.body?.cancel();
          continue;
        }
        const error = await errorFromResponse(
          response,
          describe("GET", transport.url(spec.path, spec.query)),
        );
        if (!isTransient(error)) throw error;
        await backOff(error.message);
        continue;
      }
      if (!response.body || !(response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
        await response.body?.cancel();
        throw new RelayError({
          code: CLIENT_ERROR_CODES.badResponse,
          status: response.status,
          detail: `expected text/event-stream, got ${response.headers.get("content-type") ?? "no content type"}`,
          request: describe("GET", transport.url(spec.path, spec.query)),
        });
      }

      if (options.heartbeatMs === undefined) {
        idleMs = 2 * (announcedHeartbeatMs(response.headers) ?? DEFAULT_HEARTBEAT_MS);
      }
      report({ state: "open" });
      reader = new SseReader(response.body, idleMs);
      if (outer?.aborted) return;
      let ending: string | undefined;
      while (ending === undefined) {
        const item = await reader.next();
        if (outer?.aborted) return;
        switch (item.kind) {
          case "retry":
            retryMs = item.ms;
            break;
          case "position":
            // Also from an `id:`-only frame (the position after the replay, the rotation frame): a drop before
            // the first message then resumes from where this stream stood, not from "now". (Backoff resets only
            // once messages flow: a relay that keeps failing right after its replay is not hammered.)
            lastEventId = item.id === "" ? undefined : item.id;
            break;
          case "event": {
            // Bytes arrived, so this connection and token work: reset backoff and the 401 refresh guard.
            attempt = 0;
            refreshedAfter401 = false;
            const event = toSubscriptionEvent(item.event);
            if (event === "error") {
              ending = `relay reported an error on the stream: ${item.event.data}`;
              break;
            }
            if (event.type === "message") {
              // The relay promises no duplicates; this guard makes a server bug visible as nothing worse than a skip.
              if (cursors.get(event.channel) === event.id) break;
              cursors.set(event.channel, event.id);
            }
            yield event;
            break;
          }
          case "end":
            ending = "stream ended";
            if (reader.sawBytes) attempt = 0;
            break;
          case "idle":
            if (!item.sawBytes && mode === "auto") {
              mode = "long-poll";
              ending = `no heartbeat within ${idleMs} ms: a proxy is buffering the stream`;
            } else {
              ending = `no heartbeat within ${idleMs} ms: connection presumed dead`;
            }
            break;
          case "error":
            ending = `connection lost: ${item.error instanceof Error ? item.error.message : String(item.error)}`;
            break;
        }
      }
      reader.cancel();
      reader = undefined;
      if (mode === "long-poll") {
        fallbackReason = ending;
        continue;
      }
      if (ending === "stream ended" && retryMs !== undefined) {
        // A planned close (RELAY_SSE_MAX_MS, token expiry): the server said when to come back.
        report({ state: "reconnecting", delayMs: retryMs, reason: ending });
        await sleep(retryMs, outer);
        continue;
      }
      await backOff(ending);
    }
  } finally {
    outer?.removeEventListener("abort", abortConnection);
    reader?.cancel();
    connection?.abort();
  }

  async function backOff(reason: string) {
    const delayMs = backoffDelay(attempt++, options.backoff);
    report({ state: "reconnecting", delayMs, reason });
    await sleep(delayMs, outer);
  }
}

/** The relay's default `RELAY_HEARTBEAT_MS`, for relays that do not announce theirs. */
const DEFAULT_HEARTBEAT_MS = 15_000;
/** The relay accepts RELAY_HEARTBEAT_MS between these; anything else in the header is not the relay's, so ignored. */
const MIN_HEARTBEAT_MS = 100;
const MAX_HEARTBEAT_MS = 3_600_000;

/** The heartbeat interval the relay announced in `Relay-Heartbeat-Ms`, or undefined when absent or malformed. */
export function announcedHeartbeatMs(headers: Headers): number | undefined {
  const value = headers.get(HEARTBEAT_HEADER)?.trim();
  if (!value || !/^\d{1,7}$/.test(value)) return undefined;
  const ms = Number(value);
  return ms >= MIN_HEARTBEAT_MS && ms <= MAX_HEARTBEAT_MS ? ms : undefined;
}

/** Parses one SSE event into what the iterator yields; `"error"` for an `event: error` frame. */
function toSubscriptionEvent(event: EventSourceMessage): SubscriptionEvent | "error" {
  if (event.event === "error") return "error";
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch (cause) {
    throw new RelayError({
      code: CLIENT_ERROR_CODES.badResponse,
      status: 0,
      detail: `SSE data is not JSON: ${event.data.slice(0, 200)}`,
      cause,
    });
  }
  if (event.event === "reset") return toReset(data);
  if (!isMessage(data)) {
    throw new RelayError({
      code: CLIENT_ERROR_CODES.badResponse,
      status: 0,
      detail: `SSE data is not a message object: ${event.data.slice(0, 200)}`,
    });
  }
  return {
    type: "message",
    id: data.id,
    channel: data.channel,
    event: data.event ?? "message",
    data: data.data,
    time: data.time,
  };
}

function toReset(data: unknown): ResetNotice {
  const record = (data ?? {}) as Record<string, unknown>;
  if (typeof record.channel !== "string") {
    throw new RelayError({
      code: CLIENT_ERROR_CODES.badResponse,
      status: 0,
      detail: `reset frame without a channel: ${JSON.stringify(data)}`,
    });
  }
  const reason = RESET_REASONS.find((known) => known === record.reason) ?? "unknown";
  return {
    type: "reset",
    channel: record.channel,
    reason,
    oldest: typeof record.oldest === "string" ? record.oldest : null,
  };
}

function isMessage(data: unknown): data is Omit<RelayMessage, "event"> & { event?: string } {
  if (!data || typeof data !== "object") return false;
  const record = data as Record<string, unknown>;
  return (
    typeof record.id === "string" &&
    typeof record.channel === "string" &&
    "data" in record &&
    typeof record.time === "number" &&
    (record.event === undefined || typeof record.event === "string")
  );
}
