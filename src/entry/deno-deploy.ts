import relay from "./deno.ts";

/**
 * Deno Deploy entrypoint (docs/deploy.md): serves the relay with `Deno.serve`, which Deploy routes to, whatever
 * Deploy does with default exports. The config is read from the app's environment variables by ./deno.ts.
 * Also runs locally: `deno run --allow-net --allow-env src/entry/deno-deploy.ts` (PORT, default 8000; HOST, default
 * all interfaces, as on Deploy).
 */
interface DenoApi {
  env: { get(name: string): string | undefined };
  serve(
    options: { port: number; hostname?: string },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
}
// Reached through globalThis so the same file also type-checks under tsc (no Deno lib there).
const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const host = deno.env.get("HOST");
deno.serve({ port: Number(deno.env.get("PORT") ?? 8000), ...(host ? { hostname: host } : {}) }, relay.fetch);
