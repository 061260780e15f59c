import type { Context } from "hono";
import { Hono } from "hono";
import { type ChannelPosition, CursorError, decodeCompoundCursor } from "../../protocol/cursor.ts";
import { ProblemError } from "../../protocol/problems.ts";
import { requireScope } from "../auth/middleware.ts";
import type { RelayEnv } from "../context.ts";
import { historyQuery } from "../http/history-query.ts";
import { channelParam } from "../http/params.ts";
import { subscriptionObjectName } from "../hub/delegate.ts";
import { type HubLongPollAnswer, liveAnswerBody, longPollOnHub } from "../hub/long-poll.ts";
import { liveFeedUnavailable } from "../live/feed.ts";
import { requestEndpoint } from "../live/upstream.ts";
import { waitForChannel } from "../live/wait.ts";
import { type HistoryResult, readHistory } from "../redis/history.ts";

export const DEFAULT_HISTORY_LIMIT = 100;

/**
 * `GET /v1/channels/:channel/messages?after=&limit=&wait=`: history and long-poll in one (docs/api.md).
 * Without `wait` it answers at once. With `wait` and nothing newer than `after`, it subscribes to the live
 * feed, re-reads (closing the read/subscribe race), and holds until a message arrives or the wait ends.
 * Round trips: 1 without waiting; at most 4 with (read, subscribe stream, re-read, read), never a poll loop.
 * With the process's hub (hub/long-poll.ts) a waiter shares the channel's one upstream subscription, and one
 * whose cursor is where the hub stands costs no Redis call at all.
 */
export const messagesRoutes = new Hono<RelayEnv>().get("/channels/:channel/messages", async (c) => {
  const channel = channelParam(c);
  const query = historyQuery(c.req.query());
  const after = query.after === undefined ? null : positionFor(channel, query.after);
  requireScope(c, "subscribe", channel);
  const limit = query.limit ?? DEFAULT_HISTORY_LIMIT;
  const config = c.get("config");
  const waitMs = Math.min(query.wait ?? 0, config.longPollMaxSeconds) * 1000;
  const delegate = c.get("delegate");
  const hub = c.get("hub");
  // Workers: a long-poll waits in the channel's Durable Object, on the subscription its SSE streams share.
  if (delegate && waitMs > 0)
    return delegate(c.req.raw, subscriptionObjectName({ channels: [channel], patterns: [] }));

  if (hub && waitMs > 0) {
    let answer: HubLongPollAnswer;
    try {
      answer = await longPollOnHub(hub, c.get("redis"), {
        channel,
        after,
        limit,
        waitMs,
        signals: () => [c.req.raw.signal, c.get("shutdown")],
      });
    } catch (error) {
      throw liveFeedUnavailable(error);
    }
    if (answer.kind === "history") return respond(c, answer.result);
    return c.body(liveAnswerBody(answer.messages, answer.cursor), 200, {
      "Content-Type": "application/json",
      "Cache-Control": "no-store",
    });
  }

  const redis = c.get("redis")();
  let result = await readHistory(redis, { channel, after, limit });
  if (waitMs > 0 && result.messages.length === 0 && result.reset === null) {
    // Wait from where the read left us: after the cursor, or "now" when there was none.
    const from = result.position;
    let latest: HistoryResult | undefined;
    const reread = async () => {
      latest = await readHistory(redis, { channel, after: from, limit });
      return latest.messages.length > 0 || latest.reset !== null;
    };
    let arrived: boolean;
    try {
      arrived = await waitForChannel(requestEndpoint(config.upstash, c.get("redisCalls")), channel, {
        timeoutMs: waitMs,
        // A shutdown ends the wait like a timeout: the normal empty answer, and the client polls again elsewhere.
        signal: AbortSignal.any([c.req.raw.signal, c.get("shutdown")]),
        recheck: reread,
      });
    } catch (error) {
      throw liveFeedUnavailable(error);
    }
    if (arrived && !(latest && (latest.messages.length > 0 || latest.reset !== null))) await reread();
    if (latest) result = latest;
  }
  return respond(c, result);
});

function respond(c: Context<RelayEnv>, result: HistoryResult): Response {
  c.header("Cache-Control", "no-store");
  return c.json({ messages: result.messages, cursor: result.cursor, gap: result.reset !== null });
}

/** `after` may be a single-channel cursor or a compound one (an SSE `id:`): take this channel's position. */
function positionFor(channel: string, cursor: string): ChannelPosition {
  let positions: Map<string, ChannelPosition>;
  try {
    positions = decodeCompoundCursor(cursor);
  } catch (error) {
    if (error instanceof CursorError) throw new ProblemError("invalid_cursor", `after: ${error.message}`);
    throw error;
  }
  const position = positions.get(channel);
  if (!position) {
    const named = [...positions.keys()].slice(0, 3).join(", ");
    throw new ProblemError(
      "invalid_cursor",
      `after: the cursor positions channel(s) ${named}, not ${channel}`,
    );
  }
  return position;
}
