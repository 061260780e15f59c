import type { Redis } from "@upstash/redis/cloudflare";
import { Hono } from "hono";
import { ProblemError } from "../protocol/problems.ts";
import { HEARTBEAT_HEADER } from "../protocol/stream-headers.ts";
import { authenticate } from "./auth/middleware.ts";
import type { RelayConfig } from "./config.ts";
import type { RelayEnv } from "./context.ts";
import { corsForAnyOrigin, setResponseHeader } from "./http/cors.ts";
import { errorToResponse } from "./http/errors.ts";
import { answerWrongMethods } from "./http/method-not-allowed.ts";
import type { ChannelHub } from "./hub/channel-hub.ts";
import type { StreamDelegate } from "./hub/delegate.ts";
import { pageAtMountSlash, pageRoutes } from "./page/route.ts";
import { createRelayRedis, type RedisCallCounter, type RelayRedisOptions } from "./redis/client.ts";
import { channelRoutes } from "./routes/channels.ts";
import { EVENT_STREAM_PATHS, eventsRoutes } from "./routes/events.ts";
import { healthRoutes } from "./routes/health.ts";
import { kvRoutes } from "./routes/kv.ts";
import { messagesRoutes } from "./routes/messages.ts";
import { openApiRoutes } from "./routes/openapi.ts";
import { publishRoutes } from "./routes/publish.ts";
import type { EventStreamFactory } from "./sse/response.ts";

export interface AppOptions {
  config: RelayConfig;
  /** Builds the per-request Redis client; defaults to createRelayRedis (tests may wrap it). */
  createRedis?: (config: RelayConfig, options: RelayRedisOptions) => Redis;
  /** The delivery hub SSE streams and long-polls share (Node, Deno); without it, the direct path. */
  hub?: ChannelHub;
  /**
   * Workers with the Durable Object binding (docs/deploy.md): each SSE stream and long-poll, once authenticated,
   * validated and scope-checked here, is handed to the object that holds its subscription.
   */
  delegate?: StreamDelegate;
  /**
   * Aborted when the process shuts down gracefully (shutdown.ts): open SSE streams end with a final `id:` +
   * `retry:` frame and waiting long-polls answer at once. Omitted on Workers, which never drain.
   */
  shutdown?: AbortSignal;
  /**
   * Writes SSE bodies the entry's own way instead of a web ReadableStream. The Node entry writes them straight to
   * the socket (src/entry/node/socket-event-stream.ts): per delivery, a socket write instead of a stream enqueue,
   * a read promise and @hono/node-server's read loop (docs/sse.md, "The delivery hub").
   */
  eventStreams?: EventStreamFactory;
}

/** Response header carrying the number of Redis round trips (Workers subrequests) the request made. */
export const REDIS_CALLS_HEADER = "x-relay-redis-calls";

/**
 * The relay: one Hono app for Workers, Deno and Node. Runtime-agnostic (web APIs, hono, zod,
 * @upstash/redis only); each entry parses its environment into `config` once and calls `app.fetch`.
 */
export function createApp(options: AppOptions): Hono<RelayEnv> {
  const { config } = options;
  const createRedis = options.createRedis ?? createRelayRedis;
  const shutdown = options.shutdown ?? new AbortController().signal;
  const app = new Hono<RelayEnv>();

  app.onError(errorToResponse);

  app.use(async (c, next) => {
    const counter: RedisCallCounter = { count: 0 };
    let redis: Redis | undefined;
    c.set("config", config);
    c.set("shutdown", shutdown);
    c.set("redisCalls", counter);
    c.set("hub", options.hub);
    c.set("delegate", options.delegate);
    c.set("eventStreams", options.eventStreams);
    // Built on first use: a long-poll the hub answers, a 404 or a preflight makes no Redis call.
    c.set("redis", () => (redis ??= createRedis(config, { counter })));
    await next();
    // A stream handed to a Durable Object (delegate) already carries the object's count: add ours to it.
    const handed = c.res.headers.get(REDIS_CALLS_HEADER);
    if (handed === null || counter.count > 0)
      setResponseHeader(c, REDIS_CALLS_HEADER, String(Number(handed ?? 0) + counter.count));
  });
  app.use(
    "/v1/*",
    corsForAnyOrigin({
      allowMethods: ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"],
      allowHeaders: [
        "Authorization",
        "Content-Type",
        "If-Match",
        "If-None-Match",
        "Idempotency-Key",
        "Last-Event-ID",
      ],
      exposeHeaders: ["ETag", REDIS_CALLS_HEADER, HEARTBEAT_HEADER],
      maxAgeSeconds: 600,
    }),
  );

  app.route("/", healthRoutes);
  app.route("/", openApiRoutes);
  app.route("/", pageRoutes()); // GET / (the live page), /page/app.js, /page/style.css: public, no secrets

  app.use("/v1/*", authenticate);
  app.route("/v1", kvRoutes);
  app.route("/v1", publishRoutes);
  app.route("/v1", channelRoutes);
  // Live delivery: SSE and history/long-poll.
  app.route("/v1", eventsRoutes); // GET /v1/events, GET /v1/channels/:channel/events
  app.route("/v1", messagesRoutes); // GET /v1/channels/:channel/messages (history + long-poll)

  // Last: a known path asked with another method is 405 with Allow, not 404.
  answerWrongMethods(
    app,
    EVENT_STREAM_PATHS.map((path) => `/v1${path}`),
  );
  // A route rather than app.notFound: a parent app that mounts the relay keeps its own notFound, and this one
  // still answers a problem for any unknown path under the mount.
  app.all("*", (c) => {
    const page = pageAtMountSlash(c);
    if (page) return page;
    throw new ProblemError("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);
  });

  return app;
}
