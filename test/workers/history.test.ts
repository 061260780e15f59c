import { describe, expect, inject, it } from "vitest";
import { decodeCursor, EMPTY_EPOCH, encodeCursor } from "../../src/protocol/cursor.ts";
import { parseConfig } from "../../src/relay/config.ts";
import { createRelayRedis, type RedisCallCounter } from "../../src/relay/redis/client.ts";
import { readHistories, readHistory } from "../../src/relay/redis/history.ts";
import { channelKeys } from "../../src/relay/redis/keys.ts";
import { publishMessage } from "../../src/relay/redis/publish.ts";
import { dropChannelScript, newEpoch } from "../../src/relay/redis/publish-script.ts";
import { uniqueName } from "../scenarios/harness.ts";
import { directRedis } from "./target.ts";

/** The history reader inside workerd against the real proxy: exact continuity, one round trip. */
const config = parseConfig({
  UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
  UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
  RELAY_AUTH: "none",
});
const counter: RedisCallCounter = { count: 0 };
const redis = createRelayRedis(config, { counter });
const raw = directRedis();

async function publishN(channel: string, n: number) {
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    const published = await publishMessage(redis, config, {
      channel,
      data: JSON.stringify({ i }),
      type: "json",
      event: i % 2 ? undefined : "even",
    });
    ids.push(published.id);
  }
  return ids;
}
const data = (messages: { data: unknown }[]) => messages.map((m) => (m.data as { i: number }).i);

describe("readHistory", () => {
  it("returns the latest N oldest-first as Message objects, and a cursor to continue from", async () => {
    const channel = uniqueName("h-latest");
    const ids = await publishN(channel, 5);
    const result = await readHistory(redis, { channel, limit: 3 });
    expect(data(result.messages)).toEqual([3, 4, 5]);
    expect(result.messages.map((m) => m.id)).toEqual(ids.slice(2));
    expect(result.messages[0]).toMatchObject({ channel, event: "message", data: { i: 3 } });
    expect(result.messages[1]?.event).toBe("even");
    expect(result.messages[0]?.time).toBe(Number(decodeCursor(ids[2] as string).streamId.split("-")[0]));
    expect(result.reset).toBeNull();
    expect(result.cursor).toBe(ids[4]);
    expect(result).toMatchObject({
      length: 5,
      first: ids[0],
      last: ids[4],
      epoch: decodeCursor(ids[0] as string).epoch,
    });
  });

  it("reads after a cursor in pages, then stays put when nothing is new", async () => {
    const channel = uniqueName("h-after");
    const ids = await publishN(channel, 5);
    const page1 = await readHistory(redis, { channel, after: decodeCursor(ids[0] as string), limit: 2 });
    expect(data(page1.messages)).toEqual([2, 3]);
    const page2 = await readHistory(redis, { channel, after: page1.position, limit: 2 });
    expect(data(page2.messages)).toEqual([4, 5]);
    const page3 = await readHistory(redis, { channel, after: page2.position, limit: 2 });
    expect(page3.messages).toEqual([]);
    expect(page3.cursor).toBe(ids[4]);
    expect(page3.reset).toBeNull();
  });

  it("an empty channel gives an empty-epoch start cursor that later sees the first message without a reset", async () => {
    const channel = uniqueName("h-empty");
    const empty = await readHistory(redis, { channel, limit: 10 });
    expect(empty).toMatchObject({
      messages: [],
      epoch: null,
      length: 0,
      first: null,
      last: null,
      reset: null,
    });
    expect(empty.position).toEqual({ channel, epoch: EMPTY_EPOCH, streamId: "0-0" });
    const [id] = await publishN(channel, 1);
    const after = await readHistory(redis, { channel, after: empty.position, limit: 10 });
    expect(after.reset).toBeNull();
    expect(after.messages.map((m) => m.id)).toEqual([id]);
  });

  it("trimming past the cursor is a `trimmed` reset that restarts at the oldest retained message", async () => {
    const channel = uniqueName("h-trim");
    const ids = await publishN(channel, 6);
    await raw.xtrim(channelKeys(channel).log, { strategy: "MAXLEN", threshold: 2, exactness: "=" });
    const lost = await readHistory(redis, { channel, after: decodeCursor(ids[0] as string), limit: 10 });
    expect(lost.reset).toEqual({ reason: "trimmed", oldest: ids[4] });
    expect(data(lost.messages)).toEqual([5, 6]);
    // At or after the oldest retained message nothing was lost; the first entry's predecessor (what a reset
    // frame carries) is exact too. (The last trimmed entry itself may reset needlessly: XTRIM does not move
    // max-deleted-entry-id in Redis 7.0, so the reader errs on the side of a reset, never of a gap.)
    const atOldest = await readHistory(redis, { channel, after: decodeCursor(ids[4] as string), limit: 10 });
    expect(atOldest.reset).toBeNull();
    expect(data(atOldest.messages)).toEqual([6]);
    const oldest = decodeCursor(ids[4] as string);
    const [ms, seq] = oldest.streamId.split("-").map(BigInt) as [bigint, bigint];
    const predecessor = seq > 0n ? `${ms}-${seq - 1n}` : `${ms - 1n}-18446744073709551615`;
    const adjacent = await readHistory(redis, {
      channel,
      after: { ...oldest, streamId: predecessor },
      limit: 10,
    });
    expect(adjacent.reset).toBeNull();
    expect(data(adjacent.messages)).toEqual([5, 6]);
    const fromStart = await readHistory(redis, {
      channel,
      after: { channel, epoch: EMPTY_EPOCH, streamId: "0-0" },
      limit: 10,
    });
    expect(fromStart.reset?.reason).toBe("trimmed");
  });

  it("an XDEL after the cursor is a `deleted` reset; an XDEL before it loses nothing", async () => {
    const channel = uniqueName("h-xdel");
    const ids = await publishN(channel, 5);
    await raw.xdel(channelKeys(channel).log, decodeCursor(ids[3] as string).streamId);
    const lost = await readHistory(redis, { channel, after: decodeCursor(ids[1] as string), limit: 10 });
    expect(lost.reset).toEqual({ reason: "deleted", oldest: ids[0] });
    expect(data(lost.messages)).toEqual([1, 2, 3, 5]);
    const intact = await readHistory(redis, { channel, after: decodeCursor(ids[3] as string), limit: 10 });
    expect(intact.reset).toBeNull();
    expect(data(intact.messages)).toEqual([5]);
  });

  it("a new epoch (expired history or a dropped channel) is an `epoch` reset", async () => {
    const channel = uniqueName("h-epoch");
    const [old] = await publishN(channel, 2);
    const keys = channelKeys(channel);
    await raw.del(keys.log, keys.epoch); // what expiry does
    const gone = await readHistory(redis, { channel, after: decodeCursor(old as string), limit: 10 });
    expect(gone.reset).toEqual({ reason: "epoch", oldest: null });
    expect(gone.messages).toEqual([]);
    const [fresh] = await publishN(channel, 1);
    const reset = await readHistory(redis, { channel, after: decodeCursor(old as string), limit: 10 });
    expect(reset.reset).toEqual({ reason: "epoch", oldest: fresh });
    expect(reset.messages.map((m) => m.id)).toEqual([fresh]);
    await dropChannelScript.run(redis, [keys.log, keys.epoch], [channel, newEpoch(), "60"]);
    const dropped = await readHistory(redis, { channel, after: decodeCursor(fresh as string), limit: 10 });
    expect(dropped.reset).toEqual({ reason: "epoch", oldest: null });
    expect(dropped.epoch).not.toBe(decodeCursor(fresh as string).epoch);
  });

  it("a cursor this history never issued (an id from the future) is an `unknown` reset", async () => {
    const channel = uniqueName("h-future");
    const [id] = await publishN(channel, 1);
    const position = decodeCursor(id as string);
    const forged = { ...position, streamId: "99999999999999-0" };
    const result = await readHistory(redis, { channel, after: forged, limit: 10 });
    expect(result.reset).toEqual({ reason: "unknown", oldest: id });
    expect(result.messages.map((m) => m.id)).toEqual([id]);
  });

  it("is one Redis round trip once the script is cached; readHistories reads several channels in one", async () => {
    const channels = [uniqueName("h-a"), uniqueName("h-b"), uniqueName("h-c")];
    for (const channel of channels) await publishN(channel, 2);
    await readHistory(redis, { channel: channels[0] as string, limit: 1 });
    counter.count = 0;
    await readHistory(redis, { channel: channels[0] as string, limit: 1 });
    expect(counter.count).toBe(1);
    counter.count = 0;
    const results = await readHistories(
      redis,
      channels.map((channel) => ({ channel, limit: 10 })),
    );
    expect(counter.count).toBe(1);
    expect(results.map((r) => r.channel)).toEqual(channels);
    expect(results.map((r) => data(r.messages))).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
  });

  it("delivers foreign entries safely (invalid JSON under type=json as text, hostile event names as `message`), and rejects a wrong-type log", async () => {
    const channel = uniqueName("h-foreign");
    const keys = channelKeys(channel);
    await raw.set(keys.epoch, "foreignEpoch");
    await raw.xadd(keys.log, "*", { data: "{not json", type: "json" });
    await raw.xadd(keys.log, "*", { data: "x", type: "text", event: "a\nevent: reset" });
    await raw.xadd(keys.log, "*", { data: "y", type: "binary", event: "reset" });
    const result = await readHistory(redis, { channel, limit: 10 });
    expect(result.messages.map((m) => [m.data, m.event])).toEqual([
      ["{not json", "message"],
      ["x", "message"],
      ["y", "message"],
    ]);
    expect(encodeCursor(result.position)).toBe(result.messages[2]?.id);
    const broken = uniqueName("h-wrongtype");
    await raw.set(channelKeys(broken).log, "a string");
    await expect(readHistory(redis, { channel: broken, limit: 1 })).rejects.toThrow(/WRONGTYPE/);
  });
});
