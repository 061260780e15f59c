import type { ExecutionContext, Hono } from "hono";
import { problem, problemResponse } from "../protocol/problems.ts";
import { createApp } from "../relay/app.ts";
import { parseConfig } from "../relay/config.ts";
import type { RelayEnv } from "../relay/context.ts";
import type { StreamDelegate } from "../relay/hub/delegate.ts";

export { RelayChannelObject } from "./worker/relay-channel-object.ts";

/**
 * Cloudflare Workers entry (wrangler.toml `main`). `Env` is generated from wrangler.toml by `npm run cf-typegen`
 * (worker-configuration.d.ts; a test fails when it is stale). Bindings (vars + secrets) are parsed into the relay's
 * config on the first request of an isolate and the app is reused. A bad config answers 500 naming the
 * variable (and is retried on the next request, so fixing a secret needs no redeploy).
 *
 * With the Durable Object binding RELAY_CHANNEL_OBJECTS and RELAY_HUB on (the default), SSE streams and
 * long-polls are handed, after authentication and validation, to the object holding their subscription
 * (worker/relay-channel-object.ts; docs/sse.md). Without the binding, or with RELAY_HUB=off, each holds its own
 * upstream stream here (the direct path).
 */
let app: Hono<RelayEnv> | undefined;

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    try {
      if (!app) {
        const config = parseConfig(env);
        app = createApp({ config, delegate: config.hub ? channelObjects(env) : undefined });
      }
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return problemResponse(problem("internal", detail));
    }
    return app.fetch(request, env, ctx);
  },
};

/** Forwards to the named object, or undefined when this deployment has no binding (a host without Durable Objects). */
function channelObjects(env: Env): StreamDelegate | undefined {
  const namespace = (env as { RELAY_CHANNEL_OBJECTS?: DurableObjectNamespace }).RELAY_CHANNEL_OBJECTS;
  if (!namespace) return undefined;
  return (request, name) => namespace.get(namespace.idFromName(name)).fetch(request);
}
