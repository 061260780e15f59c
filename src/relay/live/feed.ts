import { isChannelName } from "../../protocol/names.ts";
import { ProblemError } from "../../protocol/problems.ts";
import { channelKeys, channelOfLiveChannel, livePattern } from "../redis/keys.ts";
import { type LiveNotification, parseLiveNotification } from "../redis/notification.ts";
import { subscribeUpstream, type UpstreamEndpoint, type UpstreamSubscription } from "./upstream.ts";

export interface LiveFeedOptions {
  /** Relay channel names; each is one upstream stream on `relay:{<ch>}:live`. */
  channels: readonly string[];
  /** Relay channel patterns; each is one upstream stream on `relay:{<pattern>}:live`. */
  patterns: readonly string[];
  /** A parsed notification. `pattern` is set when it arrived through a pattern subscription. */
  onNotification(notification: LiveNotification, pattern?: string): void;
  onError(error: Error): void;
  readyTimeoutMs?: number;
}

/**
 * The relay's live notifications for a set of channels and patterns. A line that is not a relay
 * notification (someone PUBLISHed by hand on a `relay:` channel) is ignored rather than crashing the stream.
 */
export function openLiveFeed(endpoint: UpstreamEndpoint, options: LiveFeedOptions): UpstreamSubscription {
  const upstream = subscribeUpstream(endpoint, {
    channels: options.channels.map((channel) => channelKeys(channel).live),
    patterns: options.patterns.map(livePattern),
    readyTimeoutMs: options.readyTimeoutMs,
    onError: options.onError,
    onMessage(message) {
      const channel = channelOfLiveChannel(message.channel);
      // A pattern like `*` also matches keys no relay channel can have (`relay:{a}:x:{b}:live`): skip them.
      if (channel === null || !isChannelName(channel)) return;
      const notification = parseLiveNotification(channel, message.payload);
      if (notification === null) return;
      // A pattern stream hands back the pattern as subscribed (relay:{p}:live); report the relay pattern.
      const pattern =
        message.pattern === undefined ? undefined : (channelOfLiveChannel(message.pattern) ?? undefined);
      options.onNotification(notification, pattern);
    },
  });
  return upstream;
}

/** The 503 for a live feed that could not be confirmed (before any header went out). */
export function liveFeedUnavailable(error: unknown): ProblemError {
  const detail = error instanceof Error ? error.message : String(error);
  return new ProblemError("redis_unavailable", `could not subscribe to the live feed: ${detail}`);
}
