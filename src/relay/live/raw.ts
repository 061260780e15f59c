import { isReservedName } from "../../protocol/names.ts";
import { subscribeUpstream, type UpstreamEndpoint, type UpstreamSubscription } from "./upstream.ts";

/** One classic pub/sub message as a `raw=1` stream delivers it (docs/api.md). */
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

/**
 * Live-only feed of classic pub/sub channels: no history, no cursor, at-most-once. Channels under `relay:` are
 * never delivered: a pattern like `r*` also matches the relay's own `relay:{<ch>}:live`, which carries every
 * message of `<ch>`, and the pattern's scope says nothing about `<ch>` (docs/sse.md, "Raw mode").
 */
export function openRawFeed(endpoint: UpstreamEndpoint, options: RawFeedOptions): UpstreamSubscription {
  return subscribeUpstream(endpoint, {
    channels: options.channels,
    patterns: options.patterns,
    readyTimeoutMs: options.readyTimeoutMs,
    onError: options.onError,
    onMessage({ channel, pattern, payload }) {
      if (isReservedName(channel)) return;
      const message: RawMessage = { channel, event: "message", data: payload, time: Date.now() };
      if (pattern !== undefined) message.pattern = pattern;
      options.onMessage(message);
    },
  });
}
