import { Channels } from "./channels.ts";
import { KvClient } from "./kv.ts";
import { type SubscribeOptions, subscribe } from "./subscribe.ts";
import { type ClientOptions, Transport } from "./transport.ts";
import type { SubscriptionEvent } from "./types.ts";

export { json } from "./body.ts";
export type { BatchMessage, ChannelInfo, HistoryOptions, PublishOptions } from "./channels.ts";
export { RelayError } from "./errors.ts";
export type { KvEntry, KvListOptions, KvListPage, KvSetOptions, KvSetResult } from "./kv.ts";
export type { SubscribeOptions, SubscriptionStatus } from "./subscribe.ts";
export type { ClientOptions, FetchLike } from "./transport.ts";
export type * from "./types.ts";

export interface RelayClient {
  /** ETag-aware key-value store. */
  kv: KvClient;
  /** Publish one message (Idempotency-Key set by default, so retries are safe). */
  publish: Channels["publish"];
  /** Publish several messages in one round trip, in order. */
  publishMany: Channels["publishMany"];
  /** A page of a channel's history, or a long-poll with `wait`. */
  history: Channels["history"];
  /** Channels: info and history deletion besides the above. */
  channels: Channels;
  /** Messages from channels and patterns as an async iterator that survives drops. */
  subscribe(
    channels: string | readonly string[],
    options?: SubscribeOptions,
  ): AsyncGenerator<SubscriptionEvent>;
}

/**
 * A typed, fetch-based relay client for browsers, Deno, Node and Workers.
 *
 * ```ts
 * const relay = createClient({ url: "http://127.0.0.1:8787", token });
 * await relay.publish("orders", { id: 1 });
 * for await (const event of relay.subscribe("orders")) console.log(event);
 * ```
 */
export function createClient(options: ClientOptions): RelayClient {
  const transport = new Transport(options);
  const channels = new Channels(transport);
  return {
    kv: new KvClient(transport),
    publish: channels.publish.bind(channels),
    publishMany: channels.publishMany.bind(channels),
    history: channels.history.bind(channels),
    channels,
    subscribe: (names, subscribeOptions) =>
      subscribe(transport, channels, typeof names === "string" ? [names] : names, subscribeOptions),
  };
}
