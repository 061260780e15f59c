import type { Redis } from "@upstash/redis/cloudflare";
import { type ChannelPosition, EMPTY_EPOCH, encodeCursor, START_STREAM_ID } from "../../protocol/cursor.ts";
import type { Message, ResetReason } from "../../protocol/message.ts";
import { channelKeys } from "./keys.ts";
import { entryFromFields, messageFromEntry } from "./notification.ts";
import { LuaScript } from "./script.ts";

/**
 * The history reader. One read-only script takes an atomic snapshot of a channel (epoch, XINFO STREAM,
 * the range) and decides continuity exactly, so no message can slip between "check" and "read".
 *
 * Continuity after a cursor (epoch E, stream id I):
 *   - channel epoch ≠ E (E not "0")                              → reset `epoch` (history expired, flushed, dropped)
 *   - I > last-generated-id                                      → reset `unknown` (a cursor this history never issued)
 *   - max-deleted-entry-id > I, and < first retained entry       → reset `trimmed`
 *   - max-deleted-entry-id > I otherwise                         → reset `deleted` (XDEL removed unseen messages)
 *   - entries-added > length (something was trimmed), I before the first retained entry and not its direct
 *     predecessor                                                → reset `trimmed`
 *   - else: the entries after I, no loss.
 * Redis 7.0 moves max-deleted-entry-id on XDEL only, not on XTRIM / XADD MAXLEN, hence the last rule: it
 * can reset needlessly (when I was itself the last trimmed entry) but never misses a gap, which is the
 * contract (docs/sse.md). A cursor that is the first entry's predecessor (what a reset frame carries) is exact.
 * On reset the read restarts at the oldest retained entry. E = "0" means "before any history", so every
 * retained message is new and only removals count as loss.
 */
export const HISTORY_LUA = `-- edge-relay history v1
-- KEYS[1] relay:{<ch>}:log   KEYS[2] relay:{<ch>}:epoch
-- ARGV[1] cursor epoch ('' = no cursor: latest ARGV[3])   ARGV[2] cursor stream id   ARGV[3] count
-- Returns { epoch|nil, length, first id|nil, last id|nil, last-generated id, reason|nil, {id, fields, ...} }
local function cmp(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am < #bm and -1 or 1 end
  if am ~= bm then return am < bm and -1 or 1 end
  if #as ~= #bs then return #as < #bs and -1 or 1 end
  if as ~= bs then return as < bs and -1 or 1 end
  return 0
end
-- true when no stream id lies strictly between a < b (a is b's predecessor)
local function adjacent(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if bs ~= '0' then return am == bm and tonumber(as) + 1 == tonumber(bs) end
  return as == '18446744073709551615' and tonumber(am) + 1 == tonumber(bm)
end
local epoch = redis.call('GET', KEYS[2])
local length, first, last, lastgen, maxdel, added = 0, false, false, '0-0', '0-0', 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    local name, value = info[i], info[i + 1]
    if name == 'length' then length = value
    elseif name == 'last-generated-id' then lastgen = value
    elseif name == 'max-deleted-entry-id' then maxdel = value
    elseif name == 'entries-added' then added = value
    elseif name == 'first-entry' and value then first = value[1]
    elseif name == 'last-entry' and value then last = value[1] end
  end
end
local count = tonumber(ARGV[3])
local reason = false
local entries
if ARGV[1] == '' then
  entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', count)
  local n = #entries
  for i = 1, math.floor(n / 2) do entries[i], entries[n - i + 1] = entries[n - i + 1], entries[i] end
else
  local after = ARGV[2]
  if ARGV[1] ~= '0' and ARGV[1] ~= epoch then reason = 'epoch'
  elseif ARGV[1] == '0' and not epoch then after = '0-0'
  elseif cmp(after, lastgen) > 0 then reason = 'unknown'
  elseif cmp(maxdel, after) > 0 then
    if first and cmp(maxdel, first) > 0 then reason = 'deleted' else reason = 'trimmed' end
  -- XTRIM and XADD MAXLEN do not move max-deleted-entry-id (Redis 7.0): entries-added > length says some
  -- entries were removed, and a cursor before the first retained entry may have missed them.
  -- (A cursor right before the first entry, as a reset frame's id, cannot have missed anything.)
  elseif added > length and cmp(after, lastgen) < 0 and (not first or (cmp(after, first) < 0 and not adjacent(after, first))) then
    reason = 'trimmed'
  end
  if reason then
    entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', count)
  else
    entries = redis.call('XRANGE', KEYS[1], '(' .. after, '+', 'COUNT', count)
  end
end
return { epoch, length, first, last, lastgen, reason, entries }
`;

export const historyScript = new LuaScript(HISTORY_LUA);

export interface HistoryRequest {
  channel: string;
  /** Read after this position; null/undefined = the latest `limit` messages. */
  after?: ChannelPosition | null;
  /** At most this many messages (1-1000). */
  limit: number;
}

export interface HistoryReset {
  reason: ResetReason;
  /** Cursor of the oldest retained message, or null when none is retained. */
  oldest: string | null;
}

export interface HistoryResult {
  channel: string;
  /** Oldest first. After a reset they start at the oldest retained message. */
  messages: Message[];
  /** Where to continue: the last message returned, else the request's position, else "now". */
  position: ChannelPosition;
  /** `encodeCursor(position)`. */
  cursor: string;
  /** Set when the cursor could not be honoured (messages after it are lost); null when continuous. */
  reset: HistoryReset | null;
  /** The channel's current epoch, null before its first publish. */
  epoch: string | null;
  /** Messages retained in history. */
  length: number;
  /** Cursors of the oldest and newest retained messages. */
  first: string | null;
  last: string | null;
  /** Stream id the last publish got (`0-0` when none): a "now" position for live-only starts. */
  lastGeneratedId: string;
}

type HistoryReply = [
  string | null,
  number,
  string | null,
  string | null,
  string,
  string | null,
  [string, unknown[]][],
];

function scriptCall(request: HistoryRequest) {
  const keys = channelKeys(request.channel);
  const after = request.after;
  return {
    keys: [keys.log, keys.epoch],
    args: after ? [after.epoch, after.streamId, String(request.limit)] : ["", "", String(request.limit)],
  };
}

function toResult(request: HistoryRequest, reply: HistoryReply): HistoryResult {
  const [epoch, length, first, last, lastGeneratedId, reason, entries] = reply;
  const { channel } = request;
  const currentEpoch = epoch ?? EMPTY_EPOCH;
  const messages = (entries ?? []).map(([streamId, fields]) =>
    messageFromEntry(channel, currentEpoch, streamId, entryFromFields(fields ?? [])),
  );
  const at = (streamId: string | null) =>
    streamId && epoch ? encodeCursor({ channel, epoch, streamId }) : null;
  let position: ChannelPosition;
  const lastEntry = entries?.at(-1);
  if (lastEntry) position = { channel, epoch: currentEpoch, streamId: lastEntry[0] };
  else if (request.after && !reason) {
    // Nothing new: stay where the caller was (normalised to the current epoch when it started empty).
    position =
      request.after.epoch === EMPTY_EPOCH
        ? { channel, epoch: currentEpoch, streamId: START_STREAM_ID }
        : request.after;
  } else if (reason) position = { channel, epoch: currentEpoch, streamId: START_STREAM_ID };
  else position = { channel, epoch: currentEpoch, streamId: epoch ? lastGeneratedId : START_STREAM_ID };
  return {
    channel,
    messages,
    position,
    cursor: encodeCursor(position),
    reset: reason ? { reason: reason as ResetReason, oldest: at(first) } : null,
    epoch,
    length: Number(length),
    first: at(first),
    last: at(last),
    lastGeneratedId,
  };
}

/**
 * Reads one channel's history after a cursor (or its latest N) with exact continuity detection.
 * One round trip (two the first time the script meets a Redis: EVALSHA → EVAL).
 */
export async function readHistory(redis: Redis, request: HistoryRequest): Promise<HistoryResult> {
  const reply = await historyScript.run<HistoryReply>(
    redis,
    scriptCall(request).keys,
    scriptCall(request).args,
  );
  return toResult(request, reply);
}

/**
 * Reads several channels' histories in one pipeline (one round trip; two the first time), e.g. the replay
 * of a multi-channel SSE stream. Results are in request order; a Redis error on one channel rejects all.
 */
export async function readHistories(redis: Redis, requests: HistoryRequest[]): Promise<HistoryResult[]> {
  const outcomes = await historyScript.runMany<HistoryReply>(redis, requests.map(scriptCall));
  return outcomes.map((outcome, index) => {
    const request = requests[index] as HistoryRequest;
    if (!outcome.ok) throw new Error(`history read of channel ${request.channel} failed: ${outcome.error}`);
    return toResult(request, outcome.value);
  });
}
