import { readFileSync } from "node:fs";
import { z } from "zod";
import { parseSeedNodes, type SeedNode } from "./cluster/seed-list.ts";

/** What a token may do: which Redis it reaches, and whether it may only read. */
export interface TokenGrant {
  redisUrl: string;
  readOnly: boolean;
  /** Further Redis Cluster seed nodes for `redisUrl` (the entry's `cluster_nodes`), usually none. */
  clusterSeeds: SeedNode[];
}

/**
 * One entry of a tokens file. Either a bare Redis URL, or an object: SRH's own shape
 * (`{"srh_id","connection_string","max_connections"}`) is accepted as it is, plus `read_only` and `cluster_nodes`
 * (`host:port` seeds of a Redis Cluster, as `--redis-cluster-nodes` gives them for `--redis`).
 */
const tokenEntrySchema = z.union([
  z.string().min(1),
  z
    .object({
      connection_string: z.string().min(1).optional(),
      redis_url: z.string().min(1).optional(),
      redisUrl: z.string().min(1).optional(),
      read_only: z.boolean().optional(),
      readOnly: z.boolean().optional(),
      cluster_nodes: z.array(z.string()).optional(),
      clusterNodes: z.array(z.string()).optional(),
      srh_id: z.string().optional(),
      max_connections: z.number().optional(),
    })
    .loose(),
]);

export type TokenEntry = z.input<typeof tokenEntrySchema>;

const tokensFileSchema = z.record(z.string().min(1), tokenEntrySchema);

/** Token → grant. `defaultRedisUrl` fills entries that name no URL. Throws on a malformed seed node, naming it. */
export function tokenTableFrom(
  entries: Record<string, TokenEntry>,
  defaultRedisUrl: string,
): Map<string, TokenGrant> {
  const parsed = tokensFileSchema.parse(entries);
  const table = new Map<string, TokenGrant>();
  for (const [token, entry] of Object.entries(parsed)) {
    if (typeof entry === "string") {
      table.set(token, { redisUrl: entry, readOnly: false, clusterSeeds: [] });
    } else {
      const redisUrl = entry.connection_string ?? entry.redis_url ?? entry.redisUrl ?? defaultRedisUrl;
      table.set(token, {
        redisUrl,
        readOnly: entry.read_only ?? entry.readOnly ?? false,
        clusterSeeds: parseSeedNodes(entry.cluster_nodes ?? entry.clusterNodes ?? []),
      });
    }
  }
  return table;
}

/** Reads a tokens.json (ours or SRH's); a clear error names the file and what is wrong. */
export function readTokensFile(path: string, defaultRedisUrl: string): Map<string, TokenGrant> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(
      `cannot read tokens file ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `tokens file ${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const result = tokensFileSchema.safeParse(json);
  if (!result.success) {
    throw new Error(
      `tokens file ${path} must map each token to a Redis URL or to {"connection_string": "redis://...", ` +
        `"read_only"?: true, "cluster_nodes"?: ["host:port", ...]}: ${z.prettifyError(result.error)}`,
    );
  }
  try {
    return tokenTableFrom(result.data, defaultRedisUrl);
  } catch (error) {
    throw new Error(`tokens file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The token a request presents: `Authorization: Bearer <token>` (scheme case-insensitive) or `?_token=`.
 */
export function presentedToken(
  authorization: string | undefined,
  query: URLSearchParams,
): string | undefined {
  if (authorization) {
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  return query.get("_token") ?? undefined;
}
