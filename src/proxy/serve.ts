import { CommanderError } from "commander";
import { parseProxyCli } from "./cli-config.ts";
import { createProxy } from "./index.ts";

/**
 * The proxy as a command: parses flags and environment (docs/proxy.md), serves until SIGINT or SIGTERM, then
 * drains. Resolves with the exit code: 0 after a clean stop or `--help`, 2 for a bad flag or setting, 1 when
 * it cannot serve. Shared by `npm run proxy` (src/proxy/main.ts) and `relay proxy` (src/cli/commands/proxy.ts).
 */
export async function serveProxy(
  argv: string[],
  env: NodeJS.ProcessEnv,
  programName = "proxy",
): Promise<number> {
  let config: ReturnType<typeof parseProxyCli>;
  let proxy: ReturnType<typeof createProxy>;
  try {
    config = parseProxyCli(argv, env, process.cwd(), programName);
    proxy = createProxy(config.options);
  } catch (error) {
    // commander has already printed the help on stdout.
    if (error instanceof CommanderError && error.code === "commander.helpDisplayed") return 0;
    console.error(`proxy: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  let address: Awaited<ReturnType<typeof proxy.listen>>;
  try {
    address = await proxy.listen({ host: config.host, port: config.port });
  } catch (error) {
    console.error(`proxy: cannot listen on ${config.host}:${config.port}: ${String(error)}`);
    await proxy.close();
    return 1;
  }
  console.log(`proxy listening on ${address.url}`);

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      console.log(`proxy: ${signal}, draining`);
      proxy.close().then(
        () => resolve(0),
        (error: unknown) => {
          console.error(`proxy: shutdown failed: ${String(error)}`);
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
