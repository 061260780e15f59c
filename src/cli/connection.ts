import { type Command, Option } from "commander";
import { createClient, type RelayClient } from "../client/index.ts";

export const DEFAULT_RELAY_URL = "http://127.0.0.1:8787";

export interface ConnectionOptions {
  url: string;
  token?: string;
  /** Retries of requests safe to repeat (the SDK's `retries`); commands that offer `--retries`. */
  retries?: number;
}

/** Adds `--url` / `--token` (also from RELAY_URL / RELAY_TOKEN) to a command that talks to a relay. */
export function withConnection(command: Command): Command {
  return command
    .addOption(new Option("--url <url>", "relay base URL").env("RELAY_URL").default(DEFAULT_RELAY_URL))
    .addOption(new Option("--token <jwt>", "bearer token (mint one with `relay token`)").env("RELAY_TOKEN"));
}

export function clientFrom(options: ConnectionOptions): RelayClient {
  return createClient({
    url: options.url,
    ...(options.token ? { token: options.token } : {}),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
  });
}
