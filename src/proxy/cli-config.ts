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
export function parseProxyCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
  cwd = process.cwd(),
  programName = "proxy",
): ProxyCliConfig {
  const program = new Command(programName)
    .description("Upstash-compatible REST proxy in front of a Redis server")
    .exitOverride()
    .configureOutput({ writeErr: () => {} }); // errors are reported by main, once
  for (const spec of OPTION_SPECS) {
    const option = new Option(spec.flags, `${spec.help} (env: ${spec.env})`);
    if (spec.parse) option.argParser(spec.parse);
    program.addOption(option);
  }
  program.parse(argv, { from: "user" });
  const given = program.opts<Record<string, unknown>>();
  // Flags win; each falls back to its environment variable (read from `env`, so tests can pass their own).
  const flags: Record<string, unknown> = {};
  for (const spec of OPTION_SPECS) {
    const fromEnv = env[spec.env];
    flags[spec.key] =
      given[spec.key] ?? (fromEnv === undefined || fromEnv === "" ? undefined : envValue(spec, fromEnv));
  }

  const srhMode = env.SRH_MODE?.toLowerCase();
  if (srhMode !== undefined && srhMode !== "env" && srhMode !== "file") {
    throw new InvalidArgumentError(`SRH_MODE must be "env" or "file", got ${JSON.stringify(env.SRH_MODE)}`);
  }
  const redisUrl =
    (flags.redis as string | undefined) ??
    env.REDIS_URL ??
    (srhMode === "env" ? env.SRH_CONNECTION_STRING : undefined);
  if (srhMode === "env" && !redisUrl) {
    throw new InvalidArgumentError("SRH_MODE=env needs SRH_CONNECTION_STRING (or --redis)");
  }
  const clusterNodes = splitList((flags.redisClusterNodes as Flag) ?? env.REDIS_CLUSTER_NODES);
  const tokens = [
    splitList(flags.token as Flag),
    srhMode === "env" && env.SRH_TOKEN ? [env.SRH_TOKEN] : [],
  ].flat();
  const srhFile = `${cwd}/${SRH_TOKENS_FILE}`;
  const tokensFile =
    (flags.tokensFile as string | undefined) ??
    (srhMode === "file" || (srhMode === undefined && tokens.length === 0 && existsSync(srhFile))
      ? srhFile
      : undefined);

  const { host, port } = listenAddress(flags.listen as string | undefined, env);
  const blocking = flags.allowBlocking === true;
  const number = (key: string) => flags[key] as number | undefined;
  return {
    host,
    port,
    options: {
      redisUrl,
      ...(clusterNodes.length > 0 ? { redisClusterNodes: clusterNodes } : {}),
      token: tokens,
      readOnlyTokens: splitList(flags.readOnlyToken as Flag),
      tokensFile,
      maxBodyBytes: number("maxBodyBytes"),
      allowBlocking: blocking
        ? { maxConnections: number("blockingMaxConnections"), timeoutMs: number("blockingTimeoutMs") }
        : false,
      keepaliveMs: number("keepaliveMs"),
      commandTimeoutMs: number("commandTimeoutMs"),
      corsOrigin: flags.corsOrigin as string | undefined,
      shutdownGraceMs: number("shutdownGraceMs"),
    },
  };
}

interface OptionSpec {
  flags: string;
  /** commander's camel-cased key. */
  key: string;
  env: string;
  help: string;
  parse?: (value: string) => number;
  boolean?: boolean;
}

const OPTION_SPECS: OptionSpec[] = [
  {
    flags: "--listen <host:port>",
    key: "listen",
    env: "PROXY_LISTEN",
    help: "address to serve on (default 127.0.0.1:8079)",
  },
  {
    flags: "--redis <url>",
    key: "redis",
    env: "PROXY_REDIS_URL",
    help: `Redis URL (default ${DEFAULT_REDIS_URL}; also REDIS_URL)`,
  },
  {
    flags: "--redis-cluster-nodes <host:port...>",
    key: "redisClusterNodes",
    env: "PROXY_REDIS_CLUSTER_NODES",
    help: "Redis Cluster seed nodes besides --redis, repeatable (env: comma-separated; also REDIS_CLUSTER_NODES)",
  },
  {
    flags: "--token <token...>",
    key: "token",
    env: "PROXY_TOKEN",
    help: "full-access token, repeatable (env: comma-separated)",
  },
  {
    flags: "--read-only-token <token...>",
    key: "readOnlyToken",
    env: "PROXY_READ_ONLY_TOKEN",
    help: "read-only token, repeatable",
  },
  {
    flags: "--tokens-file <path>",
    key: "tokensFile",
    env: "PROXY_TOKENS_FILE",
    help: 'JSON {"<token>": "redis://..." | {"connection_string", "read_only"}}; SRH\'s tokens.json works',
  },
  {
    flags: "--max-body-bytes <n>",
    key: "maxBodyBytes",
    env: "PROXY_MAX_BODY_BYTES",
    help: "largest request body (default 10 MiB)",
    parse: positive,
  },
  {
    flags: "--allow-blocking",
    key: "allowBlocking",
    env: "PROXY_ALLOW_BLOCKING",
    help: "serve blocking commands on dedicated connections",
    boolean: true,
  },
  {
    flags: "--blocking-max-connections <n>",
    key: "blockingMaxConnections",
    env: "PROXY_BLOCKING_MAX_CONNECTIONS",
    help: "cap of dedicated blocking connections (default 16)",
    parse: positive,
  },
  {
    flags: "--blocking-timeout-ms <ms>",
    key: "blockingTimeoutMs",
    env: "PROXY_BLOCKING_TIMEOUT_MS",
    help: "limit for one blocking command (default 30000)",
    parse: positive,
  },
  {
    flags: "--keepalive-ms <ms>",
    key: "keepaliveMs",
    env: "PROXY_KEEPALIVE_MS",
    help: "keepalive comment interval on streams (default 15000)",
    parse: positive,
  },
  {
    flags: "--command-timeout-ms <ms>",
    key: "commandTimeoutMs",
    env: "PROXY_COMMAND_TIMEOUT_MS",
    help: "give up on a Redis reply after this long (default 10000)",
    parse: positive,
  },
  {
    flags: "--shutdown-grace-ms <ms>",
    key: "shutdownGraceMs",
    env: "PROXY_SHUTDOWN_GRACE_MS",
    help: "on SIGTERM/SIGINT, how long in-flight requests may finish before they are cut (default 5000)",
    parse: positive,
  },
  {
    flags: "--cors-origin <origin>",
    key: "corsOrigin",
    env: "PROXY_CORS_ORIGIN",
    help: "Access-Control-Allow-Origin (default *)",
  },
];

function envValue(spec: OptionSpec, value: string): unknown {
  if (spec.boolean) {
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;
    throw new InvalidArgumentError(`${spec.env} must be true or false, got ${JSON.stringify(value)}`);
  }
  if (!spec.parse) return value;
  try {
    return spec.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`${spec.env}: ${error instanceof Error ? error.message : String(error)}`);
  }
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
type Flag = string[] | string | undefined;

function splitList(value: Flag): string[] {
  if (value === undefined) return [];
  return [value]
    .flat()
    .flatMap((item) => item.split(","))
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
