-- edge-relay publish v1
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
