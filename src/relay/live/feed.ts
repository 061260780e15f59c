import { isChannelName } from "../../protocol/names.ts";
import { ProblemError } from "../../protocol/problems.ts";
import { channelKeys, channelOfLiveChannel, livePattern } from "../redis/keys.ts";
import { type LiveItem, parseLiveItem } from "./live-item.ts";
import { subscribeUpstream, type UpstreamEndpoint, type UpstreamSubscription } from "./upstream.ts";

export interface LiveFeedOptions {
  /** Relay channel names; each is one upstream stream on `relay:{<ch>}:live`. */
  channels: readonly string[];
  /** Relay channel patterns; each is one upstream stream on `relay:{<pattern>}:live`. */
  patterns: readonly string[];
  /** A parsed, framed notification. */
  onItem(item: LiveItem): void;
  onError(error: Error): void;
  readyTimeoutMs?: number;
}

/**
 * The direct path's live notifications for a set of channels and patterns (one upstream stream each). A line that is not a relay
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
      const item = parseLiveItem(channel, message.payload);
      if (item !== null) options.onItem(item);
    },
  });
  return upstream;
}

/**
 * What to throw for a live feed that could not be made ready (before any header went out): a 503, unless the
 * cause is a Redis error reply to one of the feed's history reads (WRONGTYPE: the channel's log is not a
 * stream), which the error handler answers as it does for any read (409 wrong_type, docs/api.md).
 */
export function liveFeedUnavailable(error: unknown): unknown {
  if (error instanceof Error && /WRONGTYPE/.test(error.message)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new ProblemError("redis_unavailable", `could not subscribe to the live feed: ${detail}`);
}
