import { Command, Option } from "commander";
import { EXIT } from "../exit-codes.ts";
import { type LocalStack, type RelayRuntime, StartInterrupted, startLocalStack } from "../local-stack.ts";
import { clusterPrimaries, localClusterMinReplicas, portNumber } from "../option-parsers.ts";
import { printStatus } from "../output.ts";

interface StartOptions {
  port: number;
  runtime: RelayRuntime;
  redisUrl?: string;
  redisCluster?: number;
  minReplicasToWrite?: number;
  quiet?: boolean;
}

export function startCommand(): Command {
  return new Command("start")
    .description(
      "run the local stack on 127.0.0.1: redis-server (unless REDIS_URL; or a cluster), the REST proxy and the relay; " +
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
    .addOption(
      new Option(
        "--redis-cluster <primaries>",
        "spawn a local Redis Cluster (this many primaries, a replica each) instead of one redis-server",
      )
        .argParser(clusterPrimaries)
        .conflicts("redisUrl"),
    )
    .addOption(
      new Option(
        "--min-replicas-to-write <replicas>",
        "with --redis-cluster: primaries refuse writes (NOREPLICAS, the relay answers 503) while their replica lags over 1 s",
      ).argParser(localClusterMinReplicas),
    )
    .option("-q, --quiet", "do not echo the relay's own output")
    .action(async (options: StartOptions, command: Command) => {
      if (options.minReplicasToWrite && !options.redisCluster)
        command.error(
          "error: option '--min-replicas-to-write <replicas>' needs '--redis-cluster <primaries>'",
        );
      const log = (line: string) => printStatus(`relay start: ${line}`);
      // Listen from the very start: a Ctrl-C during start-up must still stop what already runs.
      const stopRequested = new AbortController();
      let firstSignalAt: number | undefined;
      const onSignal = (name: NodeJS.Signals) => {
        if (firstSignalAt === undefined) {
          firstSignalAt = Date.now();
          stopRequested.abort(name);
        } else if (name === "SIGINT" && Date.now() - firstSignalAt > 1000) {
          // A second, deliberate Ctrl-C while we clean up means "now". (A copy of the first one, which a
          // terminal plus a forwarding parent can deliver twice, arrives within the second and is ignored.)
          process.exit(EXIT.failure);
        }
      };
      for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(name, onSignal);
      // Whoever reads our output went away (terminal closed, parent died): clean up rather than crash and
      // leave wrangler and workerd running in their own process group.
      process.stderr.once("error", () => stopRequested.abort("stderr closed"));

      let stack: LocalStack;
      try {
        stack = await startLocalStack({
          runtime: options.runtime,
          port: options.port,
          env: process.env,
          log,
          signal: stopRequested.signal,
          ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
          ...(options.redisCluster ? { redisCluster: options.redisCluster } : {}),
          ...(options.minReplicasToWrite ? { minReplicasToWrite: options.minReplicasToWrite } : {}),
          ...(options.quiet
            ? {}
            : { relayOutput: (line: string) => printStatus(`  ${options.runtime} │ ${line}`) }),
        });
      } catch (error) {
        if (!(error instanceof StartInterrupted)) throw error;
        if (String(stopRequested.signal.reason) !== "stderr closed") log(error.message);
        return;
      }
      printStatus(
        [
          "",
          `  relay   ${stack.relayUrl}   (GET /healthz, /openapi.json)`,
          `  proxy   ${stack.proxyUrl}   (Upstash REST; token ${stack.proxyToken})`,
          `  redis   ${stack.redisUrl}`,
          `  page    ${stack.relayUrl}/#token=${stack.devToken}`,
          "",
          "  Use it from another terminal:",
          `  export RELAY_URL=${stack.relayUrl}`,
          `  export RELAY_TOKEN=${stack.devToken}`,
          "  (an admin token, valid 24 h)",
          "",
          "relay start: ready. Ctrl-C stops everything.",
        ].join("\n"),
      );
      const reason = await new Promise<string>((resolve) => {
        if (stopRequested.signal.aborted) return resolve(String(stopRequested.signal.reason));
        stopRequested.signal.addEventListener("abort", () => resolve(String(stopRequested.signal.reason)));
        void stack.relayExited.then(() => resolve("exit"));
      });
      if (reason === "exit") {
        log("the relay process exited by itself; stopping the rest");
        process.exitCode = EXIT.failure;
      } else if (reason !== "stderr closed") {
        log(`${reason}: stopping the relay, the proxy and redis-server…`);
      }
      await stack.stop();
      if (reason !== "stderr closed") log("stopped");
    });
}
