import { existsSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_REDIS_URL, type ProxyOptions } from "./options.ts";

export interface ProxyCliConfig {
  host: string;
  port: number;
  options: ProxyOptions;
}

/** Where SRH reads its tokens in file mode (relative to the working directory). */
export const SRH_TOKENS_FILE = "srh-config/tokens.json";

/**
 * Reads flags, then our environment variables, then SRH's (`SRH_MODE`, `SRH_TOKEN`,
 * `SRH_CONNECTION_STRING`, `SRH_PORT`, `SRH_IPV6`, and `srh-config/tokens.json` in file mode), so an SRH
 * deployment switches over with no change. Throws commander's error on bad input.
 */
export function parseProxyCli(argv: string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): ProxyCliConfig {
  const program = new Command("proxy")
    .description("Upstash-compatible REST proxy in front of a Redis server")
    .exitOverride()
    .configureOutput({ writeErr: () => {} }) // errors are reported by main, once
    .addOption(
      new Option("--listen <host:port>", "address to serve on (default 127.0.0.1:8079)").env("PROXY_LISTEN"),
    )
    .addOption(new Option("--redis <url>", `Redis URL (default ${DEFAULT_REDIS_URL})`).env("PROXY_REDIS_URL"))
    .addOption(new Option("--token <token...>", "full-access token (repeatable)").env("PROXY_TOKEN"))
    .addOption(
      new Option("--read-only-token <token...>", "read-only token (repeatable)").env("PROXY_READ_ONLY_TOKEN"),
    )
    .addOption(
      new Option(
        "--tokens-file <path>",
        'JSON: {"<token>": "redis://..." | {"connection_string", "read_only"}}',
      ).env("PROXY_TOKENS_FILE"),
    )
    .addOption(
      new Option("--max-body-bytes <n>", "largest request body")
        .env("PROXY_MAX_BODY_BYTES")
        .argParser(positive),
    )
    .addOption(
      new Option("--allow-blocking", "serve blocking commands on dedicated connections").env(
        "PROXY_ALLOW_BLOCKING",
      ),
    )
    .addOption(
      new Option("--blocking-max-connections <n>", "cap of dedicated blocking connections (default 16)")
        .env("PROXY_BLOCKING_MAX_CONNECTIONS")
        .argParser(positive),
    )
    .addOption(
      new Option("--blocking-timeout-ms <ms>", "limit for one blocking command (default 30000)")
        .env("PROXY_BLOCKING_TIMEOUT_MS")
        .argParser(positive),
    )
    .addOption(
      new Option("--keepalive-ms <ms>", "keepalive comment interval on streams")
        .env("PROXY_KEEPALIVE_MS")
        .argParser(positive),
    )
    .addOption(
      new Option("--command-timeout-ms <ms>", "give up on a Redis reply after this long")
        .env("PROXY_COMMAND_TIMEOUT_MS")
        .argParser(positive),
    )
    .addOption(
      new Option("--cors-origin <origin>", "Access-Control-Allow-Origin (default *)").env(
        "PROXY_CORS_ORIGIN",
      ),
    );
  program.parse(argv, { from: "user" });
  const flags = program.opts<{
    listen?: string;
    redis?: string;
    token?: string[] | string;
    readOnlyToken?: string[] | string;
    tokensFile?: string;
    maxBodyBytes?: number;
    allowBlocking?: boolean | string;
    blockingMaxConnections?: number;
    blockingTimeoutMs?: number;
    keepaliveMs?: number;
    commandTimeoutMs?: number;
    corsOrigin?: string;
  }>();

  const srhMode = env.SRH_MODE?.toLowerCase();
  if (srhMode !== undefined && srhMode !== "env" && srhMode !== "file") {
    throw new InvalidArgumentError(`SRH_MODE must be "env" or "file", got ${JSON.stringify(env.SRH_MODE)}`);
  }
  const redisUrl =
    flags.redis ?? env.REDIS_URL ?? (srhMode === "env" ? env.SRH_CONNECTION_STRING : undefined);
  if (srhMode === "env" && !redisUrl) {
    throw new InvalidArgumentError("SRH_MODE=env needs SRH_CONNECTION_STRING (or --redis)");
  }
  const tokens = [splitList(flags.token), srhMode === "env" && env.SRH_TOKEN ? [env.SRH_TOKEN] : []].flat();
  const srhFile = `${cwd}/${SRH_TOKENS_FILE}`;
  const tokensFile =
    flags.tokensFile ??
    (srhMode === "file" || (srhMode === undefined && tokens.length === 0 && existsSync(srhFile))
      ? srhFile
      : undefined);

  const { host, port } = listenAddress(flags.listen, env);
  const blocking =
    flags.allowBlocking !== undefined && flags.allowBlocking !== false && flags.allowBlocking !== "false";
  return {
    host,
    port,
    options: {
      redisUrl,
      token: tokens,
      readOnlyTokens: splitList(flags.readOnlyToken),
      tokensFile,
      maxBodyBytes: flags.maxBodyBytes,
      allowBlocking: blocking
        ? { maxConnections: flags.blockingMaxConnections, timeoutMs: flags.blockingTimeoutMs }
        : false,
      keepaliveMs: flags.keepaliveMs,
      commandTimeoutMs: flags.commandTimeoutMs,
      corsOrigin: flags.corsOrigin,
    },
  };
}

/** `--listen host:port` (IPv6 as `[::1]:8079`); else SRH_PORT on all interfaces, as SRH does; else 127.0.0.1:8079. */
function listenAddress(listen: string | undefined, env: NodeJS.ProcessEnv): { host: string; port: number } {
  if (listen === undefined) {
    if (env.SRH_PORT)
      return { host: env.SRH_IPV6 === "true" ? "::" : "0.0.0.0", port: positiveOrZero(env.SRH_PORT) };
    return { host: "127.0.0.1", port: 8079 };
  }
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen) ?? /^()()(\d{1,5})$/.exec(listen);
  if (!match)
    throw new InvalidArgumentError(
      `--listen expects host:port, e.g. 127.0.0.1:8079, got ${JSON.stringify(listen)}`,
    );
  return { host: match[1] || match[2] || "127.0.0.1", port: positiveOrZero(match[3] as string) };
}

function positiveOrZero(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65_535)
    throw new InvalidArgumentError(`expected a port 0-65535, got ${JSON.stringify(value)}`);
  return port;
}

function positive(value: string): number {
  if (!/^\d{1,12}$/.test(value) || Number(value) === 0) {
    throw new InvalidArgumentError(`expected a positive whole number, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** Repeated flags arrive as an array; an env variable as one comma-separated string. */
function splitList(value: string[] | string | undefined): string[] {
  if (value === undefined) return [];
  return [value]
    .flat()
    .flatMap((item) => item.split(","))
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
