import { Command, Option } from "commander";
import { DEFAULT_RETRIES } from "../../client/transport.ts";
import { type ConnectionOptions, clientFrom, withConnection } from "../connection.ts";
import { nonNegativeInteger } from "../option-parsers.ts";
import { printData } from "../output.ts";
import { type ValueFlags, valueFromArgument } from "../value.ts";

export function publishCommand(): Command {
  return withConnection(
    new Command("publish")
      .description("publish a message: valid JSON as JSON, anything else as text; prints {id,channel,time}")
      .argument("<channel>", "the channel")
      .argument("<data>", "JSON or text; - reads stdin")
      .option("--event <name>", "SSE event type (default: message)")
      .option(
        "--idempotency-key <key>",
        "publish once per key and channel, however often this is run (default: a fresh key per run)",
      )
      .addOption(
        new Option(
          "--retries <n>",
          "retries after 503/504 or a network error, with the same key (so never twice)",
        )
          .argParser(nonNegativeInteger)
          .default(DEFAULT_RETRIES),
      )
      .option("--text", "send the data as text even if it parses as JSON")
      .option("--json", "require the data to be JSON"),
  ).action(
    async (
      channel: string,
      data: string,
      options: ConnectionOptions & ValueFlags & { event?: string; idempotencyKey?: string },
    ) => {
      const published = await clientFrom(options).publish(channel, await valueFromArgument(data, options), {
        ...(options.event === undefined ? {} : { event: options.event }),
        ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      });
      printData(published);
    },
  );
}
