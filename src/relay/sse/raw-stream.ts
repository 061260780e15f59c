import type { Context } from "hono";
import type { RelayConfig } from "../config.ts";
import { liveFeedUnavailable } from "../live/feed.ts";
import { openRawFeed, type RawMessage } from "../live/raw.ts";
import { requestEndpoint } from "../live/upstream.ts";
import { createFeedBridge } from "./bridge.ts";
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
 * line-based).
 */
export async function openRawStream(
  c: Context,
  config: RelayConfig,
  request: RawStreamRequest,
): Promise<Response> {
  const bridge = createFeedBridge<RawMessage>();
  const feed = openRawFeed(requestEndpoint(config.upstash, c.var.redisCalls), {
    channels: request.channels,
    patterns: request.patterns,
    onMessage: bridge.push,
    onError: bridge.fail,
  });
  try {
    await feed.ready;
  } catch (error) {
    feed.close();
    throw liveFeedUnavailable(error);
  }
  return eventStreamResponse(c, { heartbeatMs: config.heartbeatMs }, async (stream) => {
    const session = createSseSession<RawMessage>({
      ...sessionLimits(config, stream, c.req.raw.signal, request.closeAt, c.var.shutdown),
      render: (message) => formatFrame({ data: JSON.stringify(message) }),
      onEnd(reason) {
        feed.close();
        request.onEnd?.(reason);
      },
    });
    bridge.attach(session);
    await session.run();
  });
}
