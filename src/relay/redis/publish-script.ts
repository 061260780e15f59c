import { LuaScript } from "./script.ts";

/**
 * The publish script (docs/data-model.md, a public contract): one atomic EVAL stores a message in the channel's
 * history and announces it. Any process can publish durably by running it with EVAL/EVALSHA; see
 * docs/data-model.md for a Python example. Because Redis runs scripts one at a time, live order equals
 * history order, and no crash leaves a message stored but not announced.
 */
export const PUBLISH_LUA = `-- edge-relay publish v1
-- KEYS[1] relay:{<ch>}:log   KEYS[2] relay:{<ch>}:epoch   KEYS[3] (optional) relay:{<ch>}:idem:<key>
-- ARGV[1] channel   ARGV[2] data (payload text)   ARGV[3] type: json | text   ARGV[4] event ('' = message)
-- ARGV[5] new-epoch candidate ('' = derive one from TIME)   ARGV[6] history length (XADD MAXLEN ~)
-- ARGV[7] history TTL seconds   ARGV[8] idempotency TTL seconds   ARGV[9] mirror raw: 1 | 0
-- Returns { stream id, epoch, raw receivers, replayed (1 = Idempotency-Key seen: nothing published) }
local ch, data, kind, event = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if KEYS[1] ~= 'relay:{' .. ch .. '}:log' or KEYS[2] ~= 'relay:{' .. ch .. '}:epoch' then
  return redis.error_reply('ERR KEYS must be relay:{<channel>}:log and relay:{<channel>}:epoch for ARGV[1]')
end
if kind ~= 'json' and kind ~= 'text' then return redis.error_reply('ERR ARGV[3] (type) must be json or text') end
if event == 'message' then event = '' end
if KEYS[3] then
  local prior = redis.call('GET', KEYS[3])
  if prior then
    local space = string.find(prior, ' ', 1, true)
    if space then return { string.sub(prior, 1, space - 1), string.sub(prior, space + 1), 0, 1 } end
  end
end
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[5]
  if epoch == '' then
    local now = redis.call('TIME')
    epoch = 't' .. now[1] .. now[2]
  end
  if not string.match(epoch, '^[%w_-]+$') or #epoch > 64 then
    return redis.error_reply('ERR ARGV[5] (epoch) must be 1-64 characters of A-Z a-z 0-9 _ -')
  end
  redis.call('SET', KEYS[2], epoch)
end
local id
if event ~= '' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[6], '*', 'data', data, 'type', kind, 'event', event)
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[6], '*', 'data', data, 'type', kind)
end
redis.call('EXPIRE', KEYS[1], ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[7])
if KEYS[3] then redis.call('SET', KEYS[3], id .. ' ' .. epoch, 'EX', ARGV[8]) end
local note = { id = id, epoch = epoch, type = kind, data = data }
if event ~= '' then note.event = event end
redis.call('PUBLISH', 'relay:{' .. ch .. '}:live', cjson.encode(note))
local receivers = 0
if ARGV[9] ~= '0' then receivers = redis.call('PUBLISH', ch, data) end
return { id, epoch, receivers, 0 }
`;

/**
 * The batch publish script (POST /v1/publish): all or nothing. It checks every message first (key names,
 * type, epoch candidate, and the Redis type of every key it will touch), then writes them in order, each
 * exactly as PUBLISH_LUA does. A check that fails writes nothing, so a retried batch cannot duplicate the
 * messages around a bad one. A message whose idempotency key was seen is answered with its first id and not
 * published again; the others are (docs/api.md). Relay-internal: other processes publish with PUBLISH_LUA.
 */
export const PUBLISH_BATCH_LUA = `-- edge-relay publish batch v1
-- ARGV[1] history length   ARGV[2] history TTL s   ARGV[3] idempotency TTL s   ARGV[4] mirror raw 1|0   ARGV[5] n
-- then 6 ARGV per message: channel, data, json|text, event ('' = message), new-epoch candidate ('' = from TIME),
--   1|0 (an idempotency key follows in KEYS)
-- KEYS per message, in order: relay:{<ch>}:log, relay:{<ch>}:epoch, then relay:{<ch>}:idem:<key> when flagged
-- Returns { 'published', { stream id, epoch, raw receivers, replayed } per message }
--      or { 'wrong_type', message index (1-based), key, its Redis type } (nothing written)
local n = tonumber(ARGV[5])
if not n or n < 1 or #ARGV ~= 5 + 6 * n then return redis.error_reply('ERR ARGV must hold 5 settings and 6 values per message') end
if not (tonumber(ARGV[1]) and tonumber(ARGV[2]) and tonumber(ARGV[3])) then
  return redis.error_reply('ERR ARGV[1..3] (history length, history TTL, idempotency TTL) must be numbers')
end
local expected = { log = 'stream', epoch = 'string', idem = 'string' }
local messages, k = {}, 1
for i = 1, n do
  local a = 5 + 6 * (i - 1)
  local m = { ch = ARGV[a + 1], data = ARGV[a + 2], kind = ARGV[a + 3], event = ARGV[a + 4], epoch = ARGV[a + 5] }
  m.log, m.epochKey = KEYS[k], KEYS[k + 1]
  k = k + 2
  if ARGV[a + 6] == '1' then m.idem = KEYS[k]; k = k + 1 end
  local prefix = 'relay:{' .. m.ch .. '}:'
  if m.log ~= prefix .. 'log' or m.epochKey ~= prefix .. 'epoch'
    or (m.idem and string.sub(m.idem, 1, #prefix + 5) ~= prefix .. 'idem:') then
    return redis.error_reply('ERR message ' .. i .. ': KEYS must be the relay:{<channel>}: keys of its channel')
  end
  if m.kind ~= 'json' and m.kind ~= 'text' then return redis.error_reply('ERR message ' .. i .. ': type must be json or text') end
  if m.event == 'message' then m.event = '' end
  if m.epoch ~= '' and (not string.match(m.epoch, '^[%w_-]+$') or #m.epoch > 64) then
    return redis.error_reply('ERR message ' .. i .. ': epoch must be 1-64 characters of A-Z a-z 0-9 _ -')
  end
  for role, key in pairs({ log = m.log, epoch = m.epochKey, idem = m.idem }) do
    local t = redis.call('TYPE', key).ok
    if t ~= 'none' and t ~= expected[role] then return { 'wrong_type', i, key, t } end
  end
  messages[i] = m
end
if k - 1 ~= #KEYS then return redis.error_reply('ERR KEYS do not match the messages in ARGV') end
local replies = {}
for i, m in ipairs(messages) do
  local prior = m.idem and redis.call('GET', m.idem)
  local space = prior and string.find(prior, ' ', 1, true)
  if space then
    replies[i] = { string.sub(prior, 1, space - 1), string.sub(prior, space + 1), 0, 1 }
  else
    local epoch = redis.call('GET', m.epochKey)
    if not epoch then
      epoch = m.epoch
      if epoch == '' then
        local now = redis.call('TIME')
        epoch = 't' .. now[1] .. now[2]
      end
      redis.call('SET', m.epochKey, epoch)
    end
    local id
    if m.event ~= '' then
      id = redis.call('XADD', m.log, 'MAXLEN', '~', ARGV[1], '*', 'data', m.data, 'type', m.kind, 'event', m.event)
    else
      id = redis.call('XADD', m.log, 'MAXLEN', '~', ARGV[1], '*', 'data', m.data, 'type', m.kind)
    end
    redis.call('EXPIRE', m.log, ARGV[2])
    redis.call('EXPIRE', m.epochKey, ARGV[2])
    if m.idem then redis.call('SET', m.idem, id .. ' ' .. epoch, 'EX', ARGV[3]) end
    local note = { id = id, epoch = epoch, type = m.kind, data = m.data }
    if m.event ~= '' then note.event = m.event end
    redis.call('PUBLISH', 'relay:{' .. m.ch .. '}:live', cjson.encode(note))
    local receivers = 0
    if ARGV[4] ~= '0' then receivers = redis.call('PUBLISH', m.ch, m.data) end
    replies[i] = { id, epoch, receivers, 0 }
  end
end
return { 'published', replies }
`;

/**
 * Drops a channel's history (DELETE /v1/channels/:channel): deletes the log, writes a new epoch (so every
 * old cursor resets) and tells live subscribers at once. Does nothing for a channel that never existed.
 */
export const DROP_CHANNEL_LUA = `-- edge-relay drop channel v1
-- KEYS[1] relay:{<ch>}:log   KEYS[2] relay:{<ch>}:epoch   ARGV[1] channel   ARGV[2] new epoch   ARGV[3] TTL seconds
-- Returns 1 when the channel existed, 0 otherwise
local existed = redis.call('EXISTS', KEYS[1], KEYS[2])
if existed == 0 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
redis.call('PUBLISH', 'relay:{' .. ARGV[1] .. '}:live', cjson.encode({ reset = 'deleted', epoch = ARGV[2] }))
return 1
`;

export const publishScript = new LuaScript(PUBLISH_LUA);
export const publishBatchScript = new LuaScript(PUBLISH_BATCH_LUA);
export const dropChannelScript = new LuaScript(DROP_CHANNEL_LUA);

/** A fresh epoch: 12 URL-safe random characters. */
export function newEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_");
}
