import { CommanderError } from "commander";
import { parseProxyCli } from "./cli-config.ts";
import { createProxy } from "./index.ts";

/** `npm run proxy -- --listen 127.0.0.1:8079 --redis redis://127.0.0.1:6379 --token T` (see docs/proxy.md). */
async function main(): Promise<void> {
  let config: ReturnType<typeof parseProxyCli>;
  try {
    config = parseProxyCli(process.argv.slice(2), process.env);
  } catch (error) {
    if (
      error instanceof CommanderError &&
      (error.code === "commander.helpDisplayed" || error.code === "commander.version")
    ) {
      process.stdout.write(`${error.message}\n`);
      process.exit(0);
    }
    console.error(`proxy: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
  let proxy: ReturnType<typeof createProxy>;
  try {
    proxy = createProxy(config.options);
  } catch (error) {
    console.error(`proxy: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
  const address = await proxy.listen({ host: config.host, port: config.port });
  console.log(`proxy listening on ${address.url}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`proxy: ${signal}, draining`);
    proxy.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`proxy: shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  console.error(`proxy: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
