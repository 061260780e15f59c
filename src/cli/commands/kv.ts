import { Command, Option } from "commander";
import { type ConnectionOptions, clientFrom, withConnection } from "../connection.ts";
import { EXIT, UsageError } from "../exit-codes.ts";
import { durationArgument } from "../option-parsers.ts";
import { printData } from "../output.ts";
import { type ValueFlags, valueFromArgument } from "../value.ts";

export function setCommand(): Command {
  return withConnection(
    new Command("set")
      .description(
        "store a value: valid JSON is stored as JSON, anything else as text; prints {key,etag,created}",
      )
      .argument("<key>", "the key")
      .argument("<value>", "JSON or text; - reads stdin")
      .option("--ttl <duration>", "expire after 30s, 15m, 1h, 7d (default: no expiry)", durationArgument)
      .option("--if-match <etag>", "compare-and-set: write only if the value still has this ETag")
      .option("--nx", "create only: fail if the key exists (If-None-Match: *)")
      .option("--text", "store the value as text even if it parses as JSON")
      .option("--json", "require the value to be JSON"),
  ).action(
    async (
      key: string,
      value: string,
      options: ConnectionOptions & ValueFlags & { ttl?: number; ifMatch?: string; nx?: boolean },
    ) => {
      if (options.nx && options.ifMatch) throw new UsageError("--nx and --if-match exclude each other");
      const result = await clientFrom(options).kv.set(key, await valueFromArgument(value, options), {
        ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
        ...(options.ifMatch === undefined ? {} : { ifMatch: options.ifMatch }),
        ...(options.nx ? { ifNoneMatch: "*" as const } : {}),
      });
      printData(result);
    },
  );
}

export function getCommand(): Command {
  return withConnection(
    new Command("get")
      .description(`print a value as stored (exit ${EXIT.notFound} when the key does not exist)`)
      .argument("<key>", "the key")
      .addOption(new Option("--entry", "print {key,value,contentType,etag} as one JSON line instead")),
  ).action(async (key: string, options: ConnectionOptions & { entry?: boolean }) => {
    const entry = await clientFrom(options).kv.get(key);
    if (!entry) {
      process.stderr.write(`relay: key ${JSON.stringify(key)} does not exist\n`);
      process.exitCode = EXIT.notFound;
      return;
    }
    if (options.entry)
      printData({ key: entry.key, value: entry.value, contentType: entry.contentType, etag: entry.etag });
    else printData(entry.text);
  });
}

export function deleteCommand(): Command {
  return withConnection(
    new Command("del")
      .alias("delete")
      .description(`delete a key (exit ${EXIT.notFound} when it does not exist)`)
      .argument("<key>", "the key")
      .option("--if-match <etag>", "delete only if the value still has this ETag"),
  ).action(async (key: string, options: ConnectionOptions & { ifMatch?: string }) => {
    const deleted = await clientFrom(options).kv.delete(
      key,
      options.ifMatch === undefined ? {} : { ifMatch: options.ifMatch },
    );
    if (!deleted) {
      process.stderr.write(`relay: key ${JSON.stringify(key)} does not exist\n`);
      process.exitCode = EXIT.notFound;
    }
  });
}

export function keysCommand(): Command {
  return withConnection(
    new Command("keys")
      .description("list keys the token may read, one per line")
      .option("--prefix <prefix>", "only keys starting with this"),
  ).action(async (options: ConnectionOptions & { prefix?: string }) => {
    for await (const key of clientFrom(options).kv.keys(
      options.prefix === undefined ? {} : { prefix: options.prefix },
    ))
      printData(key);
  });
}
