import { DurableObject } from "cloudflare:workers";
import type { Hono } from "hono";
import { problem, problemResponse } from "../../protocol/problems.ts";
import { createApp } from "../../relay/app.ts";
import { parseConfig } from "../../relay/config.ts";
import type { RelayEnv } from "../../relay/context.ts";
import { createRelayHub } from "../../relay/hub/process-hub.ts";

/**
 * The Durable Object behind the binding RELAY_CHANNEL_OBJECTS (wrangler.toml; docs/deploy.md): one per channel,
 * or per set of channels and patterns a multi-channel stream names. The Worker hands it SSE streams and
 * long-polls it has authenticated and validated; this object runs the same app with a delivery hub of its own
 * (src/relay/hub/), so every subscriber it serves shares one upstream subscribe stream per channel and pattern.
 * The forwarded request is the client's own, token included, and the app authenticates it again: nothing
 * reaches the hub that the Worker's checks would refuse. The object stays active while any stream is open.
 */
export class RelayChannelObject extends DurableObject<Env> {
  #app: Hono<RelayEnv> | undefined;

  override fetch(request: Request): Response | Promise<Response> {
    try {
      if (!this.#app) {
        const config = parseConfig(this.env);
        this.#app = createApp({ config, hub: createRelayHub(config) });
      }
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return problemResponse(problem("internal", detail));
    }
    return this.#app.fetch(request, this.env);
  }
}
