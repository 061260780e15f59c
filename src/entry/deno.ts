import { createApp } from "../relay/app.ts";
import { CONFIG_VARIABLES, parseConfig } from "../relay/config.ts";
import { createProcessHub } from "../relay/hub/process-hub.ts";

/**
 * Deno / Deno Deploy entry. `deno serve --allow-net --allow-env src/entry/deno.ts` uses the default export;
 * `deno run --allow-net --allow-env src/entry/deno.ts --listen` (deno.json task `start`) listens itself on
 * HOST:PORT (default 127.0.0.1:8787). The config is read from Deno.env once, at start-up; a bad config stops
 * the server with a message naming the variable.
 */
interface DenoApi {
  env: { get(name: string): string | undefined };
  args: string[];
  serve(
    options: { hostname: string; port: number },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
}
// Reached through globalThis so the same file also type-checks under tsc (no Deno lib there).
const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const env: Record<string, string> = {};
for (const name of CONFIG_VARIABLES) {
  const value = deno.env.get(name);
  if (value !== undefined) env[name] = value;
}

const config = parseConfig(env);
// One delivery hub per process: every stream and long-poll on a channel shares its upstream subscription.
const app = createApp({ config, hub: createProcessHub(config) });

if (deno.args.includes("--listen")) {
  deno.serve(
    { hostname: deno.env.get("HOST") ?? "127.0.0.1", port: Number(deno.env.get("PORT") ?? 8787) },
    app.fetch,
  );
}

export default { fetch: app.fetch };
