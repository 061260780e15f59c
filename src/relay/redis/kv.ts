import type { Redis } from "@upstash/redis/cloudflare";
import { LuaScript } from "./script.ts";

/**
 * KV scripts: each runs atomically in Redis, so the ETag (sha1 of the value, computed by Redis) and the
 * compare-and-set decision see the same value that is then read or replaced, whoever wrote it.
 * Preconditions travel as '' (none), '*' or space-separated sha1 hex strings.
 */
const MATCHES_LUA = `local function matches(list, etag)
  if list == '*' then return etag ~= false end
  if not etag then return false end
  for tag in string.gmatch(list, '%S+') do if tag == etag then return true end end
  return false
end
`;

const GET_LUA = `-- edge-relay kv get v1: KEYS[1] value  KEYS[2] meta
-- Returns {'absent'} | {'wrong_type', type} | {'ok', value, etag, content type or nil}
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return { 'absent' } end
if t ~= 'string' then return { 'wrong_type', t } end
local value = redis.call('GET', KEYS[1])
local etag = redis.sha1hex(value)
local ctype = false
if redis.call('TYPE', KEYS[2]).ok == 'hash' then
  local meta = redis.call('HMGET', KEYS[2], 'type', 'etag')
  if meta[2] == etag then ctype = meta[1] end
end
return { 'ok', value, etag, ctype }
`;

const PUT_LUA = `-- edge-relay kv put v1: KEYS[1] value  KEYS[2] meta
-- ARGV[1] value  ARGV[2] content type  ARGV[3] ttl seconds ('' = none)  ARGV[4] If-Match  ARGV[5] If-None-Match
-- Returns {'created'|'replaced', etag} | {'precondition_failed', current etag or nil, 'if-match'|'if-none-match'}
--       | {'wrong_type', type}
${MATCHES_LUA}local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'none' and t ~= 'string' then return { 'wrong_type', t } end
local current = false
if t == 'string' then current = redis.sha1hex(redis.call('GET', KEYS[1])) end
if ARGV[4] ~= '' and not matches(ARGV[4], current) then return { 'precondition_failed', current, 'if-match' } end
if ARGV[5] ~= '' and matches(ARGV[5], current) then return { 'precondition_failed', current, 'if-none-match' } end
if ARGV[3] ~= '' then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3]) else redis.call('SET', KEYS[1], ARGV[1]) end
local etag = redis.sha1hex(ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'type', ARGV[2], 'etag', etag)
if ARGV[3] ~= '' then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
if current then return { 'replaced', etag } end
return { 'created', etag }
`;

const DELETE_LUA = `-- edge-relay kv delete v1: KEYS[1] value  KEYS[2] meta  ARGV[1] If-Match
-- Returns {'deleted'} | {'absent'} | {'precondition_failed', current etag} | {'wrong_type', type}
${MATCHES_LUA}local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return { 'absent' } end
if t ~= 'string' then return { 'wrong_type', t } end
local current = redis.sha1hex(redis.call('GET', KEYS[1]))
if ARGV[1] ~= '' and not matches(ARGV[1], current) then return { 'precondition_failed', current } end
redis.call('DEL', KEYS[1], KEYS[2])
return { 'deleted' }
`;

/** The scripts' sources, for tests that run them on a cluster directly (test/node/cluster/kv-slots.test.ts). */
export const KV_SCRIPT_SOURCES = { get: GET_LUA, put: PUT_LUA, delete: DELETE_LUA } as const;

const getScript = new LuaScript(GET_LUA);
const putScript = new LuaScript(PUT_LUA);
const deleteScript = new LuaScript(DELETE_LUA);

export interface KvKeyPair {
  value: string;
  meta: string;
}

/** A precondition: '*' (any current value) or a list of sha1 hex ETags. */
export type EtagCondition = "*" | string[];

const conditionArg = (condition: EtagCondition | undefined): string => {
  if (condition === undefined) return "";
  if (condition === "*") return "*";
  // An empty list (only weak or foreign tags were sent) must never match: use a tag no sha1 equals.
  return condition.length > 0 ? condition.join(" ") : "-";
};

export type KvGetResult =
  | { status: "ok"; value: string; etag: string; contentType: string | null }
  | { status: "absent" }
  | { status: "wrong_type"; type: string };

export async function kvGet(redis: Redis, keys: KvKeyPair): Promise<KvGetResult> {
  const reply = await getScript.run<[string, string?, string?, (string | null)?]>(
    redis,
    [keys.value, keys.meta],
    [],
  );
  if (reply[0] === "absent") return { status: "absent" };
  if (reply[0] === "wrong_type") return { status: "wrong_type", type: String(reply[1]) };
  return { status: "ok", value: reply[1] ?? "", etag: String(reply[2]), contentType: reply[3] ?? null };
}

export type KvPutResult =
  | { status: "created" | "replaced"; etag: string }
  | { status: "precondition_failed"; current: string | null; failed: "if-match" | "if-none-match" }
  | { status: "wrong_type"; type: string };

export async function kvPut(
  redis: Redis,
  keys: KvKeyPair,
  input: {
    value: string;
    contentType: string;
    ttlSeconds?: number | undefined;
    ifMatch?: EtagCondition | undefined;
    ifNoneMatch?: EtagCondition | undefined;
  },
): Promise<KvPutResult> {
  const reply = await putScript.run<[string, (string | null)?, string?]>(
    redis,
    [keys.value, keys.meta],
    [
      input.value,
      input.contentType,
      input.ttlSeconds === undefined ? "" : String(input.ttlSeconds),
      conditionArg(input.ifMatch),
      conditionArg(input.ifNoneMatch),
    ],
  );
  if (reply[0] === "wrong_type") return { status: "wrong_type", type: String(reply[1]) };
  if (reply[0] === "precondition_failed") {
    return {
      status: "precondition_failed",
      current: reply[1] ?? null,
      failed: reply[2] === "if-none-match" ? "if-none-match" : "if-match",
    };
  }
  return { status: reply[0] === "created" ? "created" : "replaced", etag: String(reply[1]) };
}

export type KvDeleteResult =
  | { status: "deleted" | "absent" }
  | { status: "precondition_failed"; current: string }
  | { status: "wrong_type"; type: string };

export async function kvDelete(
  redis: Redis,
  keys: KvKeyPair,
  ifMatch?: EtagCondition,
): Promise<KvDeleteResult> {
  const reply = await deleteScript.run<[string, string?]>(
    redis,
    [keys.value, keys.meta],
    [conditionArg(ifMatch)],
  );
  if (reply[0] === "wrong_type") return { status: "wrong_type", type: String(reply[1]) };
  if (reply[0] === "precondition_failed") return { status: "precondition_failed", current: String(reply[1]) };
  return { status: reply[0] === "deleted" ? "deleted" : "absent" };
}
