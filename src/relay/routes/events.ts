import type { Context } from "hono";
import { Hono } from "hono";
import { type ChannelPosition, CursorError, decodeCompoundCursor } from "../../protocol/cursor.ts";
import { channelNameSchema, channelPatternSchema } from "../../protocol/names.ts";
import { ProblemError } from "../../protocol/problems.ts";
import { requirePatternScope, requireScope } from "../auth/middleware.ts";
import type { RelayEnv } from "../context.ts";
import { channelParam, parseOrThrow } from "../http/params.ts";
import { subscriptionObjectName } from "../hub/delegate.ts";
import { openRawStream } from "../sse/raw-stream.ts";
import { openRelayStream } from "../sse/relay-stream.ts";

/** What an SSE request asks for, validated. */
interface EventsRequest {
  channels: string[];
  patterns: string[];
  raw: boolean;
  resume: Map<string, ChannelPosition> | null;
}

/**
 * SSE (docs/api.md, docs/sse.md): `GET /v1/events?channel=a&channel=b&pattern=p.*[&raw=1]` and
 * `GET /v1/channels/:channel/events` (the same as `/v1/events?channel=:channel`).
 */
export const eventsRoutes = new Hono<RelayEnv>()
  .get("/events", (c) => serveEvents(c, c.req.queries("channel") ?? []))
  .get("/channels/:channel/events", (c) =>
    serveEvents(c, [channelParam(c), ...(c.req.queries("channel") ?? [])]),
  );

/** The event-stream paths (relative to /v1): GET only, HEAD is refused (see serveEvents). */
export const EVENT_STREAM_PATHS = ["/events", "/channels/:channel/events"] as const;

async function serveEvents(c: Context<RelayEnv>, channelParams: string[]): Promise<Response> {
  if (c.req.method === "HEAD") {
    // Hono routes HEAD to GET handlers; a stream whose body no one reads would hold its subscription.
    throw new ProblemError("method_not_allowed", "event streams take GET, not HEAD", {
      headers: { allow: "GET" },
    });
  }
  const request = parseEventsRequest(c, channelParams);
  // 403 after every 400 (docs/api.md error order); one scope per channel, a pattern needs a glob covering it.
  for (const channel of request.channels) requireScope(c, "subscribe", channel);
  for (const pattern of request.patterns) requirePatternScope(c, pattern);
  // Raw streams stay in the Worker (live only, nothing to share per position: docs/sse.md).
  const delegate = c.get("delegate");
  if (delegate && !request.raw) return delegate(c.req.raw, subscriptionObjectName(request));
  const config = c.get("config");
  const claims = c.get("claims");
  const closeAt = claims.exp === undefined ? undefined : claims.exp * 1000;
  if (request.raw) {
    return openRawStream(c, config, {
      channels: request.channels,
      patterns: request.patterns,
      closeAt,
    });
  }
  return openRelayStream(
    c,
    c.get("redis"),
    config,
    {
      channels: request.channels,
      patterns: request.patterns,
      resume: request.resume,
      closeAt,
    },
    c.get("hub"),
  );
}

function parseEventsRequest(c: Context<RelayEnv>, channelParams: string[]): EventsRequest {
  const channels = unique(
    channelParams.map((value) => parseOrThrow(channelNameSchema, value, "invalid_name", "channel")),
  );
  const patterns = unique(
    (c.req.queries("pattern") ?? []).map((value) =>
      parseOrThrow(channelPatternSchema, value, "invalid_name", "pattern"),
    ),
  );
  if (channels.length + patterns.length === 0) {
    throw new ProblemError("invalid_parameter", "name at least one `channel=` or `pattern=` to subscribe to");
  }
  const limit = c.get("config").sseMaxChannels;
  if (channels.length + patterns.length > limit) {
    throw new ProblemError(
      "invalid_parameter",
      `one stream takes at most ${limit} channels and patterns, got ${channels.length + patterns.length}`,
    );
  }
  const raw = parseRawFlag(c.req.query("raw"));
  return { channels, patterns, raw, resume: raw ? rawResume(c) : parseResume(c) };
}

function parseRawFlag(value: string | undefined): boolean {
  if (value === undefined || value === "0" || value === "false") return false;
  if (value === "" || value === "1" || value === "true") return true;
  throw new ProblemError(
    "invalid_parameter",
    `raw: must be 1 or 0, got ${JSON.stringify(value.slice(0, 40))}`,
  );
}

/** Raw streams are live only: a cursor cannot be honoured, so asking for one is an error, not a silent gap. */
function rawResume(c: Context<RelayEnv>): null {
  if (c.req.query("lastEventId") !== undefined) {
    throw new ProblemError("invalid_parameter", "raw=1 streams are live only and take no lastEventId");
  }
  return null;
}

/** `Last-Event-ID` (what EventSource sends on reconnect) wins over `?lastEventId=` (docs/sse.md). */
function parseResume(c: Context<RelayEnv>): Map<string, ChannelPosition> | null {
  const header = c.req.header("last-event-id");
  const query = c.req.query("lastEventId");
  const cursor = header !== undefined && header !== "" ? header : query;
  if (cursor === undefined || cursor === "") return null;
  try {
    return decodeCompoundCursor(cursor);
  } catch (error) {
    if (error instanceof CursorError) {
      const source = cursor === header ? "Last-Event-ID" : "lastEventId";
      throw new ProblemError("invalid_cursor", `${source}: ${error.message}`);
    }
    throw error;
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
