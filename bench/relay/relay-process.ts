import { startRelayProcess as startShared } from "../../src/cli/relay-process.ts";

export interface RelayProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The relay app on Node (`src/entry/node.ts`) or Deno (`deno run src/entry/deno.ts --listen`), against the
 * benchmark's proxy, through the shared starter (src/cli/relay-process.ts). Only the given settings reach it (no
 * RELAY_* from the shell; BENCH_RELAY_ENV is passed in `settings` by the caller), so it runs with the defaults
 * otherwise, like the worker.
 */
export async function startRelayProcess(
  runtime: "node" | "deno",
  settings: Record<string, string>,
): Promise<RelayProcess> {
  const relay = await startShared(runtime === "node" ? "node" : "deno run", {
    settings,
    readyTimeoutMs: 60_000,
  });
  return {
    url: relay.url,
    pid: relay.pid,
    async stop() {
      await relay.stop();
    },
  };
}
