import type { ExecutionContext, Hono } from "hono";
import { problem, problemResponse } from "../protocol/problems.ts";
import { createApp } from "../relay/app.ts";
import { parseConfig } from "../relay/config.ts";
import type { RelayEnv } from "../relay/context.ts";

/**
 * Cloudflare Workers entry (wrangler.toml `main`). `Env` is generated from wrangler.toml by `npm run cf-typegen`
 * (worker-configuration.d.ts; a test fails when it is stale). Bindings (vars + secrets) are parsed into the relay's
 * config on the first request of an isolate and the app is reused. A bad config answers 500 naming the
 * variable (and is retried on the next request, so fixing a secret needs no redeploy).
 */
let app: Hono<RelayEnv> | undefined;

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    try {
      app ??= createApp({ config: parseConfig(env) });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return problemResponse(problem("internal", detail));
    }
    return app.fetch(request, env, ctx);
  },
};
