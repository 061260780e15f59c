import { Hono } from "hono";
import { isReservedName, kvKeySchema } from "../../protocol/names.ts";
import { ProblemError } from "../../protocol/problems.ts";
import { kvListQuerySchema, kvPutQuerySchema } from "../../protocol/schemas.ts";
import { requireScope } from "../auth/middleware.ts";
import { scopeAllows } from "../auth/scopes.ts";
import type { RelayEnv } from "../context.ts";
import { readTextBody } from "../http/body.ts";
import { formatEtag, noneMatchHits, parseEtagCondition } from "../http/etag.ts";
import { kvKeyParam, queryOf } from "../http/params.ts";
import { kvKeys } from "../redis/keys.ts";
import { kvDelete, kvGet, kvPut } from "../redis/kv.ts";

/** KV over HTTP (docs/api.md): UTF-8 values, content type remembered, ETag = sha1 computed by Redis. */
export const kvRoutes = new Hono<RelayEnv>();

const wrongType = (key: string, type: string) =>
  new ProblemError("wrong_type", `key ${JSON.stringify(key)} holds a Redis ${type}, not a string`, {
    extensions: { redisType: type },
  });
const notFound = (key: string) => new ProblemError("not_found", `key ${JSON.stringify(key)} does not exist`);
const preconditionFailed = (detail: string) => new ProblemError("precondition_failed", detail);

kvRoutes.put("/kv/:key{[\\s\\S]+}", async (c) => {
  const config = c.get("config");
  const redis = c.get("redis")();
  const body = await readTextBody(c.req.raw, config.maxBodyBytes, "json-or-text");
  const key = kvKeyParam(c, config.kvPrefix);
  const { ttl } = queryOf(c, kvPutQuerySchema);
  const ifMatch = parseEtagCondition(c.req.header("if-match") ?? null, "If-Match", false);
  const ifNoneMatch = parseEtagCondition(c.req.header("if-none-match") ?? null, "If-None-Match", true);
  requireScope(c, "kv:write", key);
  const result = await kvPut(redis, kvKeys(config.kvPrefix, key), {
    value: body.text,
    contentType: body.contentType,
    ttlSeconds: ttl,
    ifMatch,
    ifNoneMatch,
  });
  if (result.status === "wrong_type") throw wrongType(key, result.type);
  if (result.status === "precondition_failed") {
    const name = JSON.stringify(key);
    if (result.failed === "if-none-match")
      throw preconditionFailed(
        `If-None-Match: key ${name} exists with ETag ${formatEtag(result.current ?? "")}`,
      );
    throw preconditionFailed(
      result.current === null
        ? `If-Match: key ${name} does not exist`
        : `If-Match: the current ETag of ${name} is ${formatEtag(result.current)}`,
    );
  }
  const etag = formatEtag(result.etag);
  return c.json({ key, etag }, result.status === "created" ? 201 : 200, { etag });
});

kvRoutes.get("/kv/:key{[\\s\\S]+}", async (c) => {
  const config = c.get("config");
  const redis = c.get("redis")();
  const key = kvKeyParam(c, config.kvPrefix);
  const ifNoneMatch = parseEtagCondition(c.req.header("if-none-match") ?? null, "If-None-Match", true);
  requireScope(c, "kv:read", key);
  const result = await kvGet(redis, kvKeys(config.kvPrefix, key));
  if (result.status === "absent") throw notFound(key);
  if (result.status === "wrong_type") throw wrongType(key, result.type);
  const etag = formatEtag(result.etag);
  const headers = { etag, "cache-control": "no-cache" };
  if (noneMatchHits(ifNoneMatch, result.etag)) return c.body(null, 304, headers);
  return c.body(result.value, 200, {
    ...headers,
    "content-type": result.contentType ?? inferContentType(result.value),
  });
});

kvRoutes.delete("/kv/:key{[\\s\\S]+}", async (c) => {
  const config = c.get("config");
  const redis = c.get("redis")();
  const key = kvKeyParam(c, config.kvPrefix);
  const ifMatch = parseEtagCondition(c.req.header("if-match") ?? null, "If-Match", false);
  requireScope(c, "kv:write", key);
  const result = await kvDelete(redis, kvKeys(config.kvPrefix, key), ifMatch);
  if (result.status === "absent") throw notFound(key);
  if (result.status === "wrong_type") throw wrongType(key, result.type);
  if (result.status === "precondition_failed") {
    throw preconditionFailed(
      `If-Match: the current ETag of ${JSON.stringify(key)} is ${formatEtag(result.current)}`,
    );
  }
  return c.body(null, 204);
});

kvRoutes.get("/kv", async (c) => {
  const config = c.get("config");
  const redis = c.get("redis")();
  const claims = c.get("claims");
  const query = queryOf(c, kvListQuerySchema);
  const prefix = query.prefix ?? "";
  if (!claims.scopes.some((scope) => scope === "admin" || scope.startsWith("kv:read:"))) {
    throw new ProblemError("forbidden", "listing keys needs a kv:read:<glob> scope", {
      extensions: { required: "kv:read:*" },
    });
  }
  const match = `${escapeGlob(config.kvPrefix)}${escapeGlob(prefix)}*`;
  const [next, found] = (await redis.scan(query.cursor ?? "0", { match, count: query.limit ?? 100 })) as [
    string | number,
    string[],
  ];
  // Every key of the SCAN page is returned: COUNT (= limit) is only a hint and SCAN may answer more, and
  // cutting the page while handing back SCAN's cursor would silently skip the rest.
  const keys = found
    .filter((redisKey) => redisKey.startsWith(config.kvPrefix) && !isReservedName(redisKey))
    .map((redisKey) => redisKey.slice(config.kvPrefix.length))
    .filter((key) => kvKeySchema.safeParse(key).success && scopeAllows(claims.scopes, "kv:read", key))
    .sort();
  return c.json({ keys, cursor: String(next) });
});

/** Escapes Redis glob metacharacters so a prefix matches literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/** The type of a value whose remembered type is missing or stale (a plain Redis client wrote it). */
function inferContentType(value: string): string {
  try {
    JSON.parse(value);
    return "application/json";
  } catch {
    return "text/plain; charset=utf-8";
  }
}
