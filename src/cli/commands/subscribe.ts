import { Command, Option } from "commander";
import type { SubscriptionStatus } from "../../client/index.ts";
import { type ConnectionOptions, clientFrom, withConnection } from "../connection.ts";
import { UsageError } from "../exit-codes.ts";
import { collect, positiveInteger } from "../option-parsers.ts";
import { printData, printStatus } from "../output.ts";

interface SubscribeFlags extends ConnectionOptions {
  pattern: string[];
  since?: string;
  count?: number;
  transport: "auto" | "sse" | "long-poll";
  heartbeatMs?: number;
  quiet?: boolean;
}

export function subscribeCommand(): Command {
  return withConnection(
    new Command("subscribe")
      .description(
        "print one JSON line per message ({type,id,channel,event,data,time}; a lost position prints a " +
          '{type:"reset",...} line); reconnects and resumes by itself until Ctrl-C (exit 0)',
      )
      .argument("[channel...]", "channels to follow")
      .option("-p, --pattern <pattern>", "also follow channels matching a glob (repeatable)", collect, [])
      .option("--since <cursor>", "resume after this message id (from an earlier message's id)")
      .option("--count <n>", "exit after n messages", positiveInteger)
      .addOption(
        new Option("--transport <kind>", "how to receive")
          .choices(["auto", "sse", "long-poll"])
          .default("auto"),
      )
      .option("--heartbeat-ms <ms>", "the relay's RELAY_HEARTBEAT_MS (default 15000)", positiveInteger)
      .option("-q, --quiet", "no status lines on stderr"),
  ).action(async (channels: string[], options: SubscribeFlags) => {
    if (channels.length === 0 && options.pattern.length === 0) {
      throw new UsageError("name at least one channel or --pattern");
    }
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    // `on`, not `once`: a terminal plus a forwarding parent may deliver Ctrl-C twice; aborting twice is harmless.
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const what = [...channels, ...options.pattern.map((pattern) => `pattern ${pattern}`)].join(", ");
    const status = (line: string) => {
      if (!options.quiet) printStatus(`relay: ${line}`);
    };
    let seen = 0;
    try {
      const events = clientFrom(options).subscribe(channels, {
        patterns: options.pattern,
        signal: stop.signal,
        transport: options.transport,
        ...(options.since === undefined ? {} : { after: options.since }),
        ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
        onStatus: (state) => status(describeStatus(state, what, options.url)),
      });
      for await (const event of events) {
        printData(event);
        if (event.type === "message" && options.count !== undefined && ++seen >= options.count) break;
      }
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  });
}

function describeStatus(status: SubscriptionStatus, what: string, url: string): string {
  switch (status.state) {
    case "connecting":
      return status.attempt === 0
        ? `connecting to ${url} for ${what}`
        : `connecting (attempt ${status.attempt + 1})`;
    case "open":
      return `subscribed to ${what}`;
    case "reconnecting":
      return `${status.reason}; reconnecting in ${Math.round(status.delayMs)} ms`;
    case "long-poll":
      return `falling back to long-poll (${status.reason})`;
  }
}
