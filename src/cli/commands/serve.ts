import { Command, Option } from "commander";
import { EXIT, UsageError } from "../exit-codes.ts";
import { portNumber } from "../option-parsers.ts";
import { printStatus } from "../output.ts";

/** How long SIGINT/SIGTERM waits for in-flight requests before the process ends. */
const CLOSE_GRACE_MS = 5000;

/**
 * `relay serve`: the relay on Node for production (docs/deploy.md), configured by the environment
 * (UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, RELAY_*). Runs on every Node the package supports (>= 20):
 * the installed package runs the JavaScript build. SIGINT or SIGTERM closes it, exit 0.
 */
export function serveCommand(): Command {
  return new Command("serve")
    .description(
      "serve the relay on Node, configured by the environment (UPSTASH_REDIS_REST_URL/_TOKEN, RELAY_*); " +
        "SIGINT or SIGTERM stops it",
    )
    .addOption(new Option("--host <host>", "interface to listen on").env("HOST").default("127.0.0.1"))
    .addOption(
      new Option("--port <port>", "port (0 = any free port)").env("PORT").default(8787).argParser(portNumber),
    )
    .action(async (options: { host: string; port: number }) => {
      // Loaded on use: the other commands need neither the relay nor its HTTP server.
      const { startNodeRelay } = await import("../../entry/node.ts");
      const { ConfigError } = await import("../../relay/config.ts");
      let relay: Awaited<ReturnType<typeof startNodeRelay>>;
      try {
        relay = await startNodeRelay({ ...process.env, HOST: options.host, PORT: String(options.port) });
      } catch (error) {
        if (error instanceof ConfigError) throw new UsageError(error.message);
        throw error;
      }
      printStatus(`relay serve: listening on ${relay.url}`);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        for (const name of ["SIGINT", "SIGTERM"] as const) process.once(name, () => resolve(name));
      });
      printStatus(`relay serve: ${signal}, closing`);
      // Open event streams would hold close() for minutes; clients resume from their cursor, so give in-flight
      // requests a grace period and then end the process.
      await Promise.race([
        relay.close(),
        new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref()),
      ]);
      process.exit(EXIT.ok);
    });
}
