import type { Context } from "hono";
import type { RelayConfig } from "../config.ts";
import type { ChannelHub } from "../hub/channel-hub.ts";
import { liveFeedUnavailable } from "../live/feed.ts";
import { openRawFeed, type RawMessage } from "../live/raw.ts";
import { requestEndpoint } from "../live/upstream.ts";
import { createFeedBridge, type FeedBridge } from "./bridge.ts";
import { formatFrame } from "./frame.ts";
import { eventStreamResponse } from "./response.ts";
import { createSseSession, type SseEndReason, sessionLimits } from "./session.ts";

export interface RawStreamRequest {
  channels: readonly string[];
  patterns: readonly string[];
  closeAt?: number;
  onEnd?(reason: SseEndReason): void;
}

/**
 * `raw=1`: the classic pub/sub channels as any Redis client publishes them. Live only: no history, no
 * `id:`, nothing to resume; a payload with a newline arrives cut at it (the Upstash subscribe stream is
 * line-based). With the hub (Node, Deno), streams share one upstream per channel and pattern.
 */
export async function openRawStream(
  c: Context,
  config: RelayConfig,
  request: RawStreamRequest,
): Promise<Response> {
  const bridge = createFeedBridge<RawMessage>();
  const hub: ChannelHub | undefined = c.get("hub");
  const feed = hub ? hubRawFeed(hub, request, bridge) : directRawFeed(c, config, request, bridge);
  try {
    await feed.ready;
  } catch (error) {
    feed.close();
    throw liveFeedUnavailable(error);
  }
  const shutdown = c.get("shutdown");
  return eventStreamResponse(c, { heartbeatMs: config.heartbeatMs }, async (stream) => {
    const session = createSseSession<RawMessage>({
      ...sessionLimits(config, stream, request.closeAt, shutdown),
      render: rawFrame,
      onEnd(reason) {
        feed.close();
        request.onEnd?.(reason);
      },
    });
    bridge.attach(session);
    return session.run();
  });
}

interface RawFeed {
  ready: Promise<unknown>;
  close(): void;
}

/** On the hub: one shared upstream per channel and pattern (hub/raw-feeds.ts); its failure ends this stream. */
function hubRawFeed(hub: ChannelHub, request: RawStreamRequest, bridge: FeedBridge<RawMessage>): RawFeed {
  const listener = { deliver: bridge.push, fail: bridge.fail };
  const subscriptions = [
    ...request.channels.map((channel) => hub.subscribeRaw({ channel }, listener)),
    ...request.patterns.map((pattern) => hub.subscribeRaw({ pattern }, listener)),
  ];
  return {
    ready: Promise.all(subscriptions.map((subscription) => subscription.ready)),
    close() {
      for (const subscription of subscriptions) subscription.close();
    },
  };
}

/** The direct path: this stream's own upstream streams. */
function directRawFeed(
  c: Context,
  config: RelayConfig,
  request: RawStreamRequest,
  bridge: FeedBridge<RawMessage>,
): RawFeed {
  return openRawFeed(requestEndpoint(config.upstash, c.get("redisCalls")), {
    channels: request.channels,
    patterns: request.patterns,
    onMessage: bridge.push,
    onError: bridge.fail,
  });
}

const frames = new WeakMap<RawMessage, string>();

/** A raw message's frame, built once however many streams deliver the same message object (the hub's). */
function rawFrame(message: RawMessage): string {
  let frame = frames.get(message);
  if (frame === undefined) {
    frame = formatFrame({ data: JSON.stringify(message) });
    frames.set(message, frame);
  }
  return frame;
}
