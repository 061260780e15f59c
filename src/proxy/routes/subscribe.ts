import { SubscribeStream, streamNames } from "../subscribe-stream.ts";
import type { TokenGrant } from "../tokens.ts";
import { backendFor } from "./commands.ts";
import type { ProxyRoute } from "./route.ts";

/**
 * `/subscribe/<channels>` and `/psubscribe/<patterns>`: an SSE stream of the messages (docs/proxy.md). POST as
 * @upstash/redis sends it, or GET for EventSource; HEAD would hold a subscription no one reads.
 */
function subscribeRoute(endpoint: "subscribe" | "psubscribe"): ProxyRoute {
  return {
    endpoint,
    methods: ["POST", "GET"],
    wrongMethod: (method) => `ERR ${endpoint} streams take POST (or GET), got ${method}`,
    async serve({ path, request, response, grant }, services) {
      const backend = backendFor(grant as TokenGrant, services);
      request.resume(); // the client sends `[]`; nothing in it matters
      const { metrics, streams, options } = services.context;
      const names = streamNames(path.slice(endpoint.length + 2), options.maxNamesPerStream);
      const stream = new SubscribeStream(response, endpoint === "subscribe" ? "channel" : "pattern", names, {
        readyWaitMs: options.readyWaitMs,
        maxBacklogBytes: options.maxStreamBacklogBytes,
        onSlowConsumer: () => metrics.streamClosedSlow(),
      });
      streams.add(stream);
      stream.onEnd = () => streams.delete(stream);
      try {
        await stream.start(request, backend.subscriptions, services.headers.common());
      } catch (error) {
        stream.end();
        throw error;
      }
      metrics.streamOpened();
      return 200;
    },
  };
}

export const subscribeChannelsRoute = subscribeRoute("subscribe");
export const subscribePatternsRoute = subscribeRoute("psubscribe");
