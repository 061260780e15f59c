import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { createApp } from "../relay/app.ts";
import { ConfigError, parseConfig } from "../relay/config.ts";
import { createProcessHub } from "../relay/hub/process-hub.ts";

/**
 * Node entry: `node src/entry/node.ts` (Node ≥ 22.6 strips the types). Listens on HOST:PORT
 * (default 127.0.0.1:8787) and reads the relay's config from process.env once.
 */
export function startNodeRelay(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(env);
  const hub = createProcessHub(config);
  const app = createApp({ config, hub });
  const port = Number(env.PORT ?? 8787);
  const hostname = env.HOST ?? "127.0.0.1";
  return new Promise<{ url: string; close(): Promise<void> }>((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname }, (info) => {
      resolve({
        url: `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${info.port}`,
        close: () =>
          new Promise((done) => {
            hub?.close();
            server.close(() => done());
          }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const relay = await startNodeRelay();
    console.log(`relay listening on ${relay.url}`);
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => void relay.close().then(() => process.exit(0)));
    }
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  }
}
