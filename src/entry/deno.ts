import { createApp } from "../relay/app.ts";
import { CONFIG_VARIABLES, parseConfig } from "../relay/config.ts";
import { createProcessHub } from "../relay/hub/process-hub.ts";
import { createShutdown } from "../relay/shutdown.ts";

/**
 * Deno / Deno Deploy entry. `deno serve --allow-net --allow-env src/entry/deno.ts` uses the default export;
 * `deno run --allow-net --allow-env src/entry/deno.ts --listen` (deno.json task `start`) listens itself on
 * HOST:PORT (default 127.0.0.1:8787). The config is read from Deno.env once, at start-up; a bad config stops
 * the server with a message naming the variable. SIGTERM/SIGINT drain it (docs/sse.md#shutdown): exit 0 when
 * everything finished, 1 when RELAY_SHUTDOWN_MS cut what was left.
 */
interface DenoApi {
  env: { get(name: string): string | undefined };
  args: string[];
  serve(
    options: { hostname: string; port: number },
    handler: (request: Request) => Response | Promise<Response>,
  ): { shutdown(): Promise<void> };
  addSignalListener(signal: "SIGTERM" | "SIGINT", handler: () => void): void;
  unrefTimer(id: number): void;
  exit(code: number): never;
}
// Reached through globalThis so the same file also type-checks under tsc (no Deno lib there).
const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const env: Record<string, string> = {};
for (const name of CONFIG_VARIABLES) {
  const value = deno.env.get(name);
  if (value !== undefined) env[name] = value;
}

const config = parseConfig(env);
const shutdown = createShutdown({
  deadlineMs: config.shutdownMs,
  unref: (timer) => deno.unrefTimer(timer as unknown as number),
});
// One delivery hub per process: every stream and long-poll on a channel shares its upstream subscription.
const app = createApp({ config, hub: createProcessHub(config), shutdown: shutdown.signal });

// Only as the program (deno serve / deno run), not when a test imports the handler. (Cast: the type-checkers here
// do not all declare Deno's import.meta.main.)
if ((import.meta as { main?: boolean }).main) {
  const server = deno.args.includes("--listen")
    ? deno.serve(
        { hostname: deno.env.get("HOST") ?? "127.0.0.1", port: Number(deno.env.get("PORT") ?? 8787) },
        app.fetch,
      )
    : undefined;
  const stop = (signal: string) => {
    console.log(`relay: ${signal}, draining`);
    void shutdown
      .stop({
        // Under `deno serve`, Deno itself stops accepting on the signal and exits once every request finished.
        close: () => server?.shutdown() ?? new Promise<void>(() => {}),
        cut: () => {
          console.error("relay: RELAY_SHUTDOWN_MS passed; cut what was still open");
          deno.exit(1);
        },
      })
      .then(() => deno.exit(0));
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) deno.addSignalListener(signal, () => stop(signal));
}

export default { fetch: app.fetch };
