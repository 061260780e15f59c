import type { BlockingSettings } from "./blocking-pool.ts";
import { parseSeedNodes, type SeedNode } from "./cluster/seed-list.ts";
import { readTokensFile, type TokenEntry, type TokenGrant, tokenTableFrom } from "./tokens.ts";

export interface ProxyOptions {
  /** Redis for `token` and for tokens-file entries without a URL. Default `redis://127.0.0.1:6379`. */
  redisUrl?: string;
  /**
   * Further Redis Cluster seed nodes (`host:port`) for `redisUrl`, which names a cluster then: discovery needs any
   * one of them (or the URL's node) alive. The URL's credentials and TLS apply to them.
   */
  redisClusterNodes?: string[];
  /** Full-access token(s) for `redisUrl`. */
  token?: string | string[];
  /** Read-only token(s) for `redisUrl`: only commands Redis flags `readonly` (plus PING, ECHO). */
  readOnlyTokens?: string[];
  /**
   * Token → Redis URL, or → `{ connection_string | redisUrl, read_only | readOnly, cluster_nodes | clusterNodes }`
   * (SRH's shape works; `cluster_nodes` are further cluster seeds for that URL).
   */
  tokens?: Record<string, TokenEntry>;
  /** A JSON file of the same shape as `tokens` (SRH's tokens.json as it is). */
  tokensFile?: string;
  /** Largest request body in bytes; bigger ones get 413. Default 10 MiB. */
  maxBodyBytes?: number;
  /** Serve blocking commands (BLPOP, XREAD BLOCK ...) on dedicated connections instead of refusing them. */
  allowBlocking?: boolean | { maxConnections?: number; timeoutMs?: number };
  /** Interval of `: keepalive` comments on subscribe streams. Default 15000. */
  keepaliveMs?: number;
  /** A command without a reply after this long fails with 503. Default 10000. */
  commandTimeoutMs?: number;
  /** How long a request waits for a (re)connecting Redis before its 503. Default 2000. */
  readyWaitMs?: number;
  /** Cap of the reconnect backoff. Default 2000. */
  maxReconnectDelayMs?: number;
  /** A subscribe stream whose unsent backlog passes this many bytes is closed. Default 8 MiB. */
  maxStreamBacklogBytes?: number;
  /** Channels and patterns one subscribe request may name. Default 100. */
  maxNamesPerStream?: number;
  /** `Access-Control-Allow-Origin`. Default `*`. */
  corsOrigin?: string;
  /** On close(), in-flight requests get this long to finish before their connections are cut. Default 5000. */
  shutdownGraceMs?: number;
  /** Where state changes (Redis lost/back) are reported. Default `console.error`. */
  log?: (line: string) => void;
}

export interface ResolvedOptions {
  tokens: Map<string, TokenGrant>;
  /** The default Redis URL (`redisUrl`). */
  redisUrl: string;
  /** Redis URL → its cluster seed nodes: `redisClusterNodes` for `redisUrl`, plus every token entry's, merged. */
  clusterSeeds: Map<string, SeedNode[]>;
  maxBodyBytes: number;
  blocking: BlockingSettings | undefined;
  keepaliveMs: number;
  commandTimeoutMs: number;
  readyWaitMs: number;
  maxReconnectDelayMs: number;
  maxStreamBacklogBytes: number;
  maxNamesPerStream: number;
  corsOrigin: string;
  shutdownGraceMs: number;
  log: (line: string) => void;
}

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** Fills defaults and builds the token table; throws a clear error when no token is configured. */
export function resolveOptions(options: ProxyOptions): ResolvedOptions {
  const redisUrl = options.redisUrl ?? DEFAULT_REDIS_URL;
  const tokens = new Map<string, TokenGrant>();
  if (options.tokensFile)
    for (const [token, grant] of readTokensFile(options.tokensFile, redisUrl)) tokens.set(token, grant);
  if (options.tokens)
    for (const [token, grant] of tokenTableFrom(options.tokens, redisUrl)) tokens.set(token, grant);
  for (const token of [options.token ?? []].flat())
    tokens.set(token, { redisUrl, readOnly: false, clusterSeeds: [] });
  for (const token of options.readOnlyTokens ?? [])
    tokens.set(token, { redisUrl, readOnly: true, clusterSeeds: [] });
  for (const token of tokens.keys()) {
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new Error(
        "proxy tokens must be non-empty printable ASCII without spaces (they travel in a header)",
      );
    }
  }
  if (tokens.size === 0) {
    throw new Error(
      "the proxy needs at least one token: pass token / --token, tokens / --tokens-file, or SRH_TOKEN",
    );
  }
  const keepaliveMs = positive(options.keepaliveMs, 15_000, "keepaliveMs");
  const commandTimeoutMs = positive(options.commandTimeoutMs, 10_000, "commandTimeoutMs");
  const readyWaitMs = positive(options.readyWaitMs, 2_000, "readyWaitMs");
  const blockingOption = options.allowBlocking;
  const blockingObject = typeof blockingOption === "object" ? blockingOption : {};
  return {
    tokens,
    redisUrl,
    clusterSeeds: seedsByUrl(redisUrl, parseSeedNodes(options.redisClusterNodes ?? []), tokens.values()),
    maxBodyBytes: positive(options.maxBodyBytes, 10 * 1024 * 1024, "maxBodyBytes"),
    blocking: blockingOption
      ? {
          maxConnections: positive(blockingObject.maxConnections, 16, "allowBlocking.maxConnections"),
          timeoutMs: positive(blockingObject.timeoutMs, 30_000, "allowBlocking.timeoutMs"),
          readyWaitMs,
        }
      : undefined,
    keepaliveMs,
    commandTimeoutMs,
    readyWaitMs,
    maxReconnectDelayMs: positive(options.maxReconnectDelayMs, 2_000, "maxReconnectDelayMs"),
    maxStreamBacklogBytes: positive(options.maxStreamBacklogBytes, 8 * 1024 * 1024, "maxStreamBacklogBytes"),
    maxNamesPerStream: positive(options.maxNamesPerStream, 100, "maxNamesPerStream"),
    corsOrigin: options.corsOrigin ?? "*",
    shutdownGraceMs: positive(options.shutdownGraceMs, 5_000, "shutdownGraceMs"),
    log: options.log ?? ((line) => console.error(line)),
  };
}

/** Tokens naming one URL share its connections, so they share its seeds too: the union, in order, without repeats. */
function seedsByUrl(
  redisUrl: string,
  defaultSeeds: SeedNode[],
  grants: Iterable<TokenGrant>,
): Map<string, SeedNode[]> {
  const byUrl = new Map<string, SeedNode[]>([[redisUrl, [...defaultSeeds]]]);
  for (const grant of grants) {
    const seeds = byUrl.get(grant.redisUrl) ?? [];
    for (const seed of grant.clusterSeeds)
      if (!seeds.some((known) => known.host === seed.host && known.port === seed.port)) seeds.push(seed);
    byUrl.set(grant.redisUrl, seeds);
  }
  return byUrl;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`proxy option ${name} must be a positive number, got ${value}`);
  return value;
}
