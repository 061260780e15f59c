import { Command, Option } from "commander";
import { EXIT } from "../exit-codes.ts";
import { type RelayRuntime, startLocalStack } from "../local-stack.ts";
import { portNumber } from "../option-parsers.ts";
import { printStatus } from "../output.ts";

export function startCommand(): Command {
  return new Command("start")
    .description(
      "run the local stack on 127.0.0.1: redis-server (unless REDIS_URL), the REST proxy and the relay; " +
        "prints the URLs and an admin dev token; Ctrl-C stops everything",
    )
    .addOption(
      new Option("--port <port>", "relay port (0 = any free port)")
        .env("PORT")
        .default(8787)
        .argParser(portNumber),
    )
    .addOption(
      new Option("--runtime <runtime>", "what serves the relay")
        .choices(["workers", "deno", "node"])
        .default("workers"),
    )
    .addOption(
      new Option("--redis-url <url>", "use this Redis instead of spawning redis-server").env("REDIS_URL"),
    )
    .option("-q, --quiet", "do not echo the relay's own output")
    .action(async (options: { port: number; runtime: RelayRuntime; redisUrl?: string; quiet?: boolean }) => {
      const log = (line: string) => printStatus(`relay start: ${line}`);
      const stack = await startLocalStack({
        runtime: options.runtime,
        port: options.port,
        env: process.env,
        log,
        ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
        ...(options.quiet
          ? {}
          : { relayOutput: (line: string) => printStatus(`  ${options.runtime} │ ${line}`) }),
      });
      printStatus(
        [
          "",
          `  relay   ${stack.relayUrl}   (GET /healthz, /openapi.json)`,
          `  proxy   ${stack.proxyUrl}   (Upstash REST; token ${stack.proxyToken})`,
          `  redis   ${stack.redisUrl}`,
          "",
          "  Use it from another terminal:",
          `  export RELAY_URL=${stack.relayUrl}`,
          `  export RELAY_TOKEN=${stack.devToken}`,
          "  (an admin token, valid 24 h)",
          "",
          "relay start: ready. Ctrl-C stops everything.",
        ].join("\n"),
      );
      const signal = await new Promise<NodeJS.Signals | "exit" | "stderr closed">((resolve) => {
        for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(name, () => resolve(name));
        void stack.relayExited.then(() => resolve("exit"));
        // Whoever reads our output went away (terminal closed, parent died): clean up rather than crash and
        // leave wrangler and workerd running in their own process group.
        process.stderr.once("error", () => resolve("stderr closed"));
      });
      if (signal === "exit") {
        log("the relay process exited by itself; stopping the rest");
        process.exitCode = EXIT.failure;
      } else if (signal === "stderr closed") {
        await stack.stop();
        return;
      } else {
        log(`${signal}: stopping the relay, the proxy and redis-server…`);
        // A second Ctrl-C while we clean up means "now".
        process.once("SIGINT", () => process.exit(EXIT.failure));
      }
      await stack.stop();
      log("stopped");
    });
}
