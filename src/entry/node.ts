import type { Server } from "node:http";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { createApp } from "../relay/app.ts";
import { ConfigError, parseConfig } from "../relay/config.ts";
import { createProcessHub } from "../relay/hub/process-hub.ts";
import { createShutdown, type ShutdownOutcome } from "../relay/shutdown.ts";
import { socketEventStreams } from "./node/socket-event-stream.ts";

export interface NodeRelay {
  url: string;
  /** Graceful: stops accepting, ends streams and long-polls, waits for in-flight requests up to the deadline. */
  close(): Promise<ShutdownOutcome>;
}

/**
 * Node entry: `startNodeRelay(env)` listens on HOST:PORT (default 127.0.0.1:8787) with the relay's config read
 * from `env` once. `relay serve` runs it on any Node >= 20 (docs/deploy.md); running this file directly needs a
 * Node that strips types (>= 22.18) or the build, dist/node.mjs.
 * SIGTERM/SIGINT drain it (docs/sse.md#shutdown): exit 0 when everything finished, 1 when RELAY_SHUTDOWN_MS
 * cut what was left.
 */
export function startNodeRelay(env: Record<string, string | undefined> = process.env): Promise<NodeRelay> {
  const config = parseConfig(env);
  const shutdown = createShutdown({ deadlineMs: config.shutdownMs });
  // One delivery hub per process: every stream and long-poll on a channel shares its upstream subscription.
  const hub = createProcessHub(config);
  // SSE bodies go straight to the socket (see socket-event-stream.ts); everything else as @hono/node-server sends it.
  const sse = socketEventStreams();
  const app = createApp({ config, hub, shutdown: shutdown.signal, eventStreams: sse.eventStreams });
  const port = Number(env.PORT ?? 8787);
  const hostname = env.HOST ?? "127.0.0.1";
  return new Promise((resolve) => {
    const server = serve({ fetch: sse.fetch(app.fetch), port, hostname }, (info) => {
      resolve({
        url: `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${info.port}`,
        close: () =>
          shutdown.stop({
            // server.close() closes only the keep-alive connections idle at that moment; one busy then (an SSE
            // stream ending with its final frame, a long-poll answering) would idle until keepAliveTimeout and
            // hold the drain to the deadline. So idle connections are closed again until the server has closed.
            close: () =>
              new Promise((done) => {
                const sweep = setInterval(() => (server as Server).closeIdleConnections(), 50);
                server.close(() => {
                  clearInterval(sweep);
                  hub?.close();
                  done();
                });
              }),
            cut: () => (server as Server).closeAllConnections(),
          }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const relay = await startNodeRelay();
    console.log(`relay listening on ${relay.url}`);
    const stop = (signal: NodeJS.Signals) => {
      console.log(`relay: ${signal}, draining`);
      void relay.close().then((outcome) => {
        if (outcome === "cut") console.error("relay: RELAY_SHUTDOWN_MS passed; cut what was still open");
        process.exit(outcome === "drained" ? 0 : 1);
      });
    };
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, stop);
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  }
}
