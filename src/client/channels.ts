import { encodeBody } from "./body.ts";
import type { Transport } from "./transport.ts";
import type { HistoryPage, JsonValue, Published } from "./types.ts";

export interface PublishOptions {
  /** SSE event type (`^[A-Za-z0-9_.:-]{1,64}$`, not `reset`); default `message`. */
  event?: string;
  /**
   * Makes retries safe: the relay publishes once per key and channel. The SDK generates one per call
   * by default (so its own retries never duplicate); pass your own to dedupe across processes.
   */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface BatchMessage {
  channel: string;
  /** A string is sent as text, anything else as JSON. */
  data: unknown;
  event?: string;
  /** Publishes once per key and channel; the SDK generates one per message by default (see `publish`). */
  idempotencyKey?: string;
}

export interface HistoryOptions {
  /** Messages strictly after this cursor; without it, the latest `limit` messages. */
  after?: string;
  limit?: number;
  /** Long-poll: hold up to this many seconds (≤ 30) when nothing is newer than `after`. */
  wait?: number;
  signal?: AbortSignal;
}

export interface ChannelInfo {
  channel: string;
  length: number;
  first: string | null;
  last: string | null;
  epoch: string | null;
}

/** Publishing and channel history. */
export class Channels {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Publishes one message: a string as text, anything else as JSON. Retried safely with an Idempotency-Key. */
  publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<Published> {
    const { body, contentType } = encodeBody(data, "publish data");
    return this.#transport.json<Published>({
      method: "POST",
      path: `${channelPath(channel)}/messages`,
      query: { event: options.event },
      headers: {
        "content-type": contentType,
        "idempotency-key": options.idempotencyKey ?? crypto.randomUUID(),
      },
      body,
      signal: options.signal,
      retryable: true,
    });
  }

  /**
   * Publishes several messages in one round trip, in order, all or nothing. Every message carries an
   * idempotencyKey (a fresh UUID unless given), kept across the client's retries, so a retry after a lost
   * answer publishes nothing twice and answers the first ids.
   */
  async publishMany(
    messages: readonly BatchMessage[],
    options: { signal?: AbortSignal } = {},
  ): Promise<Published[]> {
    const result = await this.#transport.json<{ messages: Published[] }>({
      method: "POST",
      path: "v1/publish",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        messages: messages.map(({ channel, data, event, idempotencyKey }) => ({
          channel,
          data,
          ...(event === undefined ? {} : { event }),
          idempotencyKey: idempotencyKey ?? crypto.randomUUID(),
        })),
      }),
      signal: options.signal,
      retryable: true,
    });
    return result.messages;
  }

  /** A page of history; with `wait`, a long-poll. */
  history<T = JsonValue>(channel: string, options: HistoryOptions = {}): Promise<HistoryPage<T>> {
    return this.#transport.json<HistoryPage<T>>({
      method: "GET",
      path: `${channelPath(channel)}/messages`,
      query: { after: options.after, limit: options.limit, wait: options.wait },
      signal: options.signal,
      retryable: true,
    });
  }

  info(channel: string, options: { signal?: AbortSignal } = {}): Promise<ChannelInfo> {
    return this.#transport.json<ChannelInfo>({
      method: "GET",
      path: channelPath(channel),
      signal: options.signal,
      retryable: true,
    });
  }

  /** Drops the channel's history (needs `admin`); open streams receive a `reset`. */
  async deleteHistory(channel: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const response = await this.#transport.send({
      method: "DELETE",
      path: channelPath(channel),
      signal: options.signal,
    });
    await response.body?.cancel();
  }
}

export function channelPath(channel: string): string {
  if (typeof channel !== "string" || channel.length === 0)
    throw new TypeError("channel must be a non-empty string");
  return `v1/channels/${encodeURIComponent(channel)}`;
}
