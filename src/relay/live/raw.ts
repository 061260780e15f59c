import { subscribeUpstream, type UpstreamEndpoint, type UpstreamSubscription } from "./upstream.ts";

/** One classic pub/sub message as a `raw=1` stream delivers it (design §3). */
export interface RawMessage {
  channel: string;
  pattern?: string;
  event: "message";
  /** The payload as a string, exactly as the subscribe stream carried it (one line). */
  data: string;
  /** When the relay received it (ms since the epoch): classic pub/sub carries no timestamp. */
  time: number;
}

export interface RawFeedOptions {
  /** Classic pub/sub channels, subscribed as named (what any Redis client PUBLISHes to). */
  channels: readonly string[];
  patterns: readonly string[];
  onMessage(message: RawMessage): void;
  onError(error: Error): void;
  readyTimeoutMs?: number;
}

/** Live-only feed of classic pub/sub channels: no history, no cursor, at-most-once. */
export function openRawFeed(endpoint: UpstreamEndpoint, options: RawFeedOptions): UpstreamSubscription {
  return subscribeUpstream(endpoint, {
    channels: options.channels,
    patterns: options.patterns,
    readyTimeoutMs: options.readyTimeoutMs,
    onError: options.onError,
    onMessage({ channel, pattern, payload }) {
      const message: RawMessage = { channel, event: "message", data: payload, time: Date.now() };
      if (pattern !== undefined) message.pattern = pattern;
      options.onMessage(message);
    },
  });
}
