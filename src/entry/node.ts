import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { createApp } from "../relay/app.ts";
import { ConfigError, parseConfig } from "../relay/config.ts";

/**
 * Node entry: `startNodeRelay(env)` listens on HOST:PORT (default 127.0.0.1:8787) with the relay's config read
 * from `env` once. `relay serve` runs it on any Node >= 20 (docs/deploy.md); running this file directly needs a
 * Node that strips types (>= 22.18) or the build, dist/node.mjs.
 */
export function startNodeRelay(env: Record<string, string | undefined> = process.env) {
  const app = createApp({ config: parseConfig(env) });
  const port = Number(env.PORT ?? 8787);
  const hostname = env.HOST ?? "127.0.0.1";
  return new Promise<{ url: string; close(): Promise<void> }>((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname }, (info) => {
      resolve({
        url: `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${info.port}`,
        close: () => new Promise((done) => server.close(() => done())),
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
