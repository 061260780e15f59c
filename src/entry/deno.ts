import { createApp } from "../relay/app.ts";
import { CONFIG_VARIABLES, parseConfig } from "../relay/config.ts";

/**
 * Deno / Deno Deploy entry: `deno serve --allow-net --allow-env src/entry/deno.ts` (deno.json task
 * `start`). The config is read from Deno.env once, at start-up; a bad config stops the server with a
 * message naming the variable.
 */
// Typed through globalThis so the same file also type-checks under tsc (no Deno lib there).
const denoEnv = (globalThis as unknown as { Deno: { env: { get(name: string): string | undefined } } }).Deno
  .env;

const env: Record<string, string> = {};
for (const name of CONFIG_VARIABLES) {
  const value = denoEnv.get(name);
  if (value !== undefined) env[name] = value;
}

const app = createApp({ config: parseConfig(env) });

export default { fetch: app.fetch };
