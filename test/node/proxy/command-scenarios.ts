import { Redis } from "@upstash/redis";
import type { Cluster, Redis as TcpRedis } from "ioredis";
import { beforeAll, describe, expect, it } from "vitest";

/** Where the command scenarios run: a proxy, a TCP client on the same Redis (or cluster), key names. */
export interface CommandTarget {
  url: string;
  token: string;
  direct: TcpRedis | Cluster;
  /** A key or channel name no other test uses (on a cluster, in the current test's slot). */
  unique(prefix: string): string;
}

let current: CommandTarget;
let redis: Redis;
let raw: Redis;
let direct: TcpRedis | Cluster;
const unique = (prefix: string) => current.unique(prefix);
const clientFor = (config: { automaticDeserialization?: boolean } = {}) =>
  new Redis({ url: current.url, token: current.token, retry: false, enableTelemetry: false, ...config });

/**
 * Every command family @upstash/redis exposes that Redis 7.0 has, through the proxy with the client's defaults
 * (auto-pipelining, base64 responses, automatic deserialization) unless a test says otherwise. Run against a
 * single Redis (commands.test.ts) and a Redis Cluster (cluster-commands.test.ts), where every one of them runs.
 */
export function commandScenarios(target: () => CommandTarget): void {
  beforeAll(() => {
    current = target();
    redis = clientFor();
    raw = clientFor({ automaticDeserialization: false });
    direct = current.direct;
  });

  describe("strings", () => {
    it("set/get/incr/append/getrange/mget/mset/getdel/getex/strlen/setrange", async () => {
      const k = unique("str");
      expect(await redis.set(k, "hello")).toBe("OK");
      expect(await redis.get(k)).toBe("hello");
      expect(await redis.append(k, " world")).toBe(11);
      expect(await redis.getrange(k, 0, 4)).toBe("hello");
      expect(await redis.strlen(k)).toBe(11);
      expect(await redis.setrange(k, 6, "WORLD")).toBe(11);
      expect(await redis.getdel(k)).toBe("hello WORLD");
      expect(await redis.get(k)).toBeNull();
      const n = unique("n");
      expect(await redis.incr(n)).toBe(1);
      expect(await redis.incrby(n, 41)).toBe(42);
      expect(await redis.decrby(n, 2)).toBe(40);
      expect(await redis.decr(n)).toBe(39);
      expect(await redis.incrbyfloat(n, 0.5)).toBe(39.5);
      const [a, b] = [unique("a"), unique("b")];
      expect(await redis.mset({ [a]: "1", [b]: { x: 1 } })).toBe("OK");
      expect(await redis.mget(a, b, unique("missing"))).toEqual([1, { x: 1 }, null]);
      expect(await redis.msetnx({ [a]: "2" })).toBe(0);
      expect(await redis.set(a, "v", { ex: 100 })).toBe("OK");
      expect(await redis.ttl(a)).toBeGreaterThan(90);
      expect(await redis.getex(a, { persist: true })).toBe("v");
      expect(await redis.ttl(a)).toBe(-1);
      expect(await redis.set(a, "w", { nx: true })).toBeNull();
      expect(await redis.setnx(unique("nx"), "x")).toBe(1);
      expect(await redis.getset(a, "z")).toBe("v");
      expect(await redis.setex(a, 10, "e")).toBe("OK");
      expect(await redis.psetex(a, 10_000, "p")).toBe("OK");
    });

    it("keeps JSON values, unicode and binary-looking text intact", async () => {
      const k = unique("json");
      const value = { name: "Zoë ✓ 🚀", list: [1, "two", null], nested: { ok: "OK" } };
      await redis.set(k, value);
      expect(await redis.get(k)).toEqual(value);
      expect(await direct.get(k)).toBe(JSON.stringify(value));
      const text = unique("text");
      await raw.set(text, "line1\nline2\u0000end \u00ff");
      expect(await raw.get(text)).toBe("line1\nline2\u0000end \u00ff");
    });

    it("returns bytes written by a TCP client, binary-safe in base64", async () => {
      const k = unique("bin");
      const bytes = Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x80, 0x0a, 0x0d]);
      await direct.set(k, bytes);
      const answer = await rawBase64Get(k);
      expect(Buffer.from(answer, "base64")).toEqual(bytes);
    });

    it("handles a 1 MiB value", async () => {
      const k = unique("big");
      const big = `${"x".repeat(1024 * 1024 - 3)}end`;
      expect(await raw.set(k, big)).toBe("OK");
      expect(await raw.get(k)).toBe(big);
      expect(await direct.strlen(k)).toBe(1024 * 1024);
    });

    it("gives integers beyond 2^53 back as exact strings", async () => {
      const k = unique("huge");
      await direct.set(k, "9007199254740993");
      expect(await raw.get(k)).toBe("9007199254740993");
      expect(await redis.get(k)).toBe("9007199254740993");
      // INCR's integer reply is beyond 2^53: it arrives as a string, never rounded to ...994.
      expect(await raw.incr(k)).toBe("9007199254740994");
      expect(await redis.incr(k)).toBe("9007199254740995");
      expect(await raw.decr(k)).toBe("9007199254740994");
    });
  });

  describe("bitmaps", () => {
    it("setbit/getbit/bitcount/bitpos/bitop", async () => {
      const [a, b, dest] = [unique("bits"), unique("bits"), unique("bits")];
      expect(await redis.setbit(a, 7, 1)).toBe(0);
      expect(await redis.getbit(a, 7)).toBe(1);
      expect(await redis.bitcount(a, 0, -1)).toBe(1);
      expect(await redis.bitpos(a, 1)).toBe(7);
      await redis.setbit(b, 6, 1);
      expect(await redis.bitop("or", dest, a, b)).toBe(1);
      expect(await redis.bitcount(dest, 0, -1)).toBe(2);
    });
  });

  describe("hashes", () => {
    it("hset/hget/hgetall/hmget/hincrby/hkeys/hvals/hlen/hexists/hdel/hscan/hrandfield/hstrlen/hsetnx", async () => {
      const k = unique("hash");
      expect(await redis.hset(k, { a: "1", b: "two", c: JSON.stringify({ d: 4 }) })).toBe(3);
      expect(await redis.hget(k, "b")).toBe("two");
      expect(await redis.hgetall(k)).toEqual({ a: 1, b: "two", c: { d: 4 } });
      expect(await direct.hgetall(k)).toEqual({ a: "1", b: "two", c: '{"d":4}' });
      expect(await redis.hmget(k, "a", "missing")).toEqual({ a: 1, missing: null });
      expect(await redis.hincrby(k, "a", 5)).toBe(6);
      expect(await redis.hincrbyfloat(k, "a", 0.5)).toBe(6.5);
      expect((await redis.hkeys(k)).sort()).toEqual(["a", "b", "c"]);
      expect(await redis.hvals(k)).toHaveLength(3);
      expect(await redis.hlen(k)).toBe(3);
      expect(await redis.hexists(k, "a")).toBe(1);
      expect(await redis.hstrlen(k, "b")).toBe(3);
      expect(await redis.hsetnx(k, "b", "x")).toBe(0);
      const [cursor, fields] = await redis.hscan(k, 0, { count: 10 });
      expect(cursor).toBe("0");
      expect(fields).toHaveLength(6);
      expect(["a", "b", "c"]).toContain(await redis.hrandfield(k));
      expect(await redis.hdel(k, "a", "b")).toBe(1 + 1);
    });
  });

  describe("lists", () => {
    it("push/pop/range/index/insert/set/rem/trim/move/pos", async () => {
      const [k, other] = [unique("list"), unique("list")];
      expect(await redis.rpush(k, "a", "b", "c")).toBe(3);
      expect(await redis.lpush(k, "z")).toBe(4);
      expect(await redis.lrange(k, 0, -1)).toEqual(["z", "a", "b", "c"]);
      expect(await redis.lindex(k, 1)).toBe("a");
      expect(await redis.linsert(k, "before", "b", "ab")).toBe(5);
      expect(await redis.lset(k, 0, "y")).toBe("OK");
      expect(await redis.lrem(k, 1, "ab")).toBe(1);
      expect(await redis.lpos(k, "b")).toBe(2);
      expect(await redis.llen(k)).toBe(4);
      expect(await redis.lmove(k, other, "left", "right")).toBe("y");
      expect(await redis.ltrim(k, 0, 1)).toBe("OK");
      expect(await redis.lpop(k)).toBe("a");
      expect(await redis.rpop(k)).toBe("b");
      expect(await redis.lpushx(k, "x")).toBe(0);
      expect(await redis.rpushx(other, "w")).toBe(2);
    });
  });

  describe("sets", () => {
    it("sadd/smembers/sismember/smismember/scard/sinter/sunion/sdiff/*store/spop/srandmember/smove/sscan", async () => {
      const [a, b, dest] = [unique("set"), unique("set"), unique("set")];
      expect(await redis.sadd(a, "1", "2", "3")).toBe(3);
      await redis.sadd(b, "3", "4");
      expect((await raw.smembers(a)).sort()).toEqual(["1", "2", "3"]);
      expect(await redis.sismember(a, "2")).toBe(1);
      expect(await redis.smismember(a, ["2", "9"])).toEqual([1, 0]);
      expect(await redis.scard(a)).toBe(3);
      expect(await raw.sinter(a, b)).toEqual(["3"]);
      expect((await raw.sunion(a, b)).sort()).toEqual(["1", "2", "3", "4"]);
      expect((await raw.sdiff(a, b)).sort()).toEqual(["1", "2"]);
      expect(await redis.sinterstore(dest, a, b)).toBe(1);
      expect(await redis.sunionstore(dest, a, b)).toBe(4);
      expect(await redis.sdiffstore(dest, a, b)).toBe(2);
      expect(await redis.smove(a, b, "1")).toBe(1);
      expect(["2", "3"]).toContain(await raw.srandmember(a));
      expect(["2", "3"]).toContain(await raw.spop(a));
      const [cursor, members] = await raw.sscan(b, 0);
      expect(cursor).toBe("0");
      expect(members.sort()).toEqual(["1", "3", "4"]);
      expect(await redis.srem(b, "1")).toBe(1);
    });
  });

  describe("sorted sets", () => {
    it("zadd/zrange (incl. scores, byscore, rev)/zscore/zincrby/zrank/zcount/zpop/zunion/zinter/zrem*", async () => {
      const [k, other, dest] = [unique("zset"), unique("zset"), unique("zset")];
      expect(
        await redis.zadd(
          k,
          { score: 1, member: "a" },
          { score: 2.5, member: "b" },
          { score: 3, member: "c" },
        ),
      ).toBe(3);
      expect(await redis.zrange(k, 0, -1)).toEqual(["a", "b", "c"]);
      expect(await redis.zrange(k, 0, -1, { withScores: true })).toEqual(["a", 1, "b", 2.5, "c", 3]);
      expect(await redis.zrange(k, 2, 3, { byScore: true })).toEqual(["b", "c"]);
      expect(await redis.zrange(k, 0, 0, { rev: true })).toEqual(["c"]);
      expect(await redis.zscore(k, "b")).toBe(2.5);
      expect(await redis.zmscore(k, ["a", "c"])).toEqual([1, 3]);
      expect(await redis.zincrby(k, 2, "a")).toBe(3);
      expect(await redis.zrank(k, "b")).toBe(0);
      expect(await redis.zrevrank(k, "b")).toBe(2);
      expect(await redis.zcount(k, 3, 3)).toBe(2);
      expect(await redis.zcard(k)).toBe(3);
      expect(await redis.zlexcount(k, "-", "+")).toBe(3);
      await redis.zadd(other, { score: 10, member: "a" });
      expect(await redis.zunionstore(dest, 2, [k, other])).toBe(3);
      expect(await redis.zinterstore(dest, 2, [k, other])).toBe(1);
      expect(await redis.zunion(2, [k, other], { withScores: true })).toEqual(["b", 2.5, "c", 3, "a", 13]);
      expect(await redis.zpopmin(k)).toEqual(["b", 2.5]);
      expect(await redis.zpopmax(k)).toEqual(["c", 3]);
      expect(await redis.zrem(k, "a")).toBe(1);
      await redis.zadd(k, { score: 0, member: "x" }, { score: 0, member: "y" }, { score: 5, member: "z" });
      expect(await redis.zremrangebylex(k, "[x", "[x")).toBe(1);
      expect(await redis.zremrangebyscore(k, 5, 5)).toBe(1);
      expect(await redis.zremrangebyrank(k, 0, 0)).toBe(1);
      const [cursor, entries] = await redis.zscan(other, 0);
      expect(cursor).toBe("0");
      expect(entries).toEqual(["a", 10]);
    });
  });

  describe("streams", () => {
    it("xadd/xrange/xrevrange/xlen/xtrim/xdel/xgroup/xreadgroup/xack/xpending/xclaim/xinfo/xread", async () => {
      const k = unique("stream");
      const first = await redis.xadd(k, "*", { field: "one", n: "1" });
      expect(first).toMatch(/^\d+-\d+$/);
      await redis.xadd(k, "*", { field: "two" });
      expect(await redis.xlen(k)).toBe(2);
      const parsed = await redis.xrange(k, "-", "+");
      expect(parsed[first]).toEqual({ field: "one", n: 1 });
      expect(Object.values(parsed)).toHaveLength(2);
      const range = (await raw.xrange(k, "-", "+")) as unknown as Array<[string, string[]]>;
      expect(range.map(([, fields]) => fields)).toEqual([
        ["field", "one", "n", "1"],
        ["field", "two"],
      ]);
      expect(await raw.xrevrange(k, "+", "-", 1)).toHaveLength(1);
      expect(await redis.xgroup(k, { type: "CREATE", group: "g", id: "0" })).toBe("OK");
      const read = (await raw.xreadgroup("g", "c1", k, ">", { count: 10 })) as unknown[];
      expect(JSON.stringify(read)).toContain("two");
      expect(await redis.xack(k, "g", first)).toBe(1);
      const pending = (await redis.xpending(k, "g", "-", "+", 10)) as unknown[];
      expect(pending).toHaveLength(1);
      const claimed = (await raw.xclaim(k, "g", "c2", 0, (pending[0] as [string])[0])) as unknown[];
      expect(claimed).toHaveLength(1);
      const info = await raw.xinfo(k, { type: "GROUPS" });
      expect(JSON.stringify(info)).toContain("g");
      const xread = (await raw.xread(k, "0-0", { count: 1 })) as unknown[];
      expect(JSON.stringify(xread)).toContain("one");
      expect(await redis.xdel(k, first)).toBe(1);
      expect(await redis.xtrim(k, { strategy: "MAXLEN", threshold: 0 })).toBe(1);
    });
  });

  describe("geo", () => {
    it("geoadd/geopos/geodist/geohash/geosearch/geosearchstore", async () => {
      const [k, dest] = [unique("geo"), unique("geo")];
      expect(
        await redis.geoadd(
          k,
          { longitude: 13.361389, latitude: 38.115556, member: "Palermo" },
          { longitude: 15.087269, latitude: 37.502669, member: "Catania" },
        ),
      ).toBe(2);
      const dist = await redis.geodist(k, "Palermo", "Catania", "KM");
      expect(dist).toBeGreaterThan(166);
      expect(dist).toBeLessThan(167);
      const [pos] = await redis.geopos(k, "Palermo");
      expect(Number(pos?.lng)).toBeCloseTo(13.361389, 4);
      expect(await redis.geohash(k, "Palermo")).toEqual(["sqc8b49rny0"]);
      const found = await redis.geosearch(
        k,
        { type: "FROMLONLAT", coordinate: { lon: 15, lat: 37 } },
        { type: "BYRADIUS", radius: 200, radiusType: "KM" },
        "ASC",
      );
      expect(found.map((item) => item.member)).toEqual(["Catania", "Palermo"]);
      expect(
        await redis.geosearchstore(
          dest,
          k,
          { type: "FROMMEMBER", member: "Palermo" },
          { type: "BYRADIUS", radius: 10, radiusType: "KM" },
          "ASC",
        ),
      ).toBe(1);
    });
  });

  describe("hyperloglog", () => {
    it("pfadd/pfcount/pfmerge", async () => {
      const [a, b, dest] = [unique("hll"), unique("hll"), unique("hll")];
      expect(await redis.pfadd(a, "x", "y", "z")).toBe(1);
      await redis.pfadd(b, "z", "w");
      expect(await redis.pfcount(a)).toBe(3);
      expect(await redis.pfmerge(dest, a, b)).toBe("OK");
      expect(await redis.pfcount(dest)).toBe(4);
    });
  });

  describe("scripts", () => {
    it("eval/evalsha/eval_ro, script load/exists/flush-free fallback via createScript", async () => {
      const k = unique("script");
      expect(await redis.eval("return redis.call('SET', KEYS[1], ARGV[1])", [k], ["v"])).toBe("OK");
      expect(await redis.evalRo("return redis.call('GET', KEYS[1])", [k], [])).toBe("v");
      const sha = await redis.scriptLoad("return ARGV[1]");
      expect(await redis.scriptExists(sha)).toEqual([1]);
      expect(await redis.evalsha(sha, [], ["hi"])).toBe("hi");
      // A script Redis has never seen: EVALSHA fails with NOSCRIPT and createScript falls back to EVAL.
      const body = `return {KEYS[1], ARGV[1], 42, {"nested", "OK"}} -- ${unique("fresh")}`;
      const script = redis.createScript<[string, string, number, [string, string]]>(body);
      expect(await script.exec([k], ["arg"])).toEqual([k, "arg", 42, ["nested", "OK"]]);
      expect(await script.exec([k], ["again"])).toEqual([k, "again", 42, ["nested", "OK"]]);
      await expect(redis.evalsha("0".repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
    });

    it("passes Lua status replies and errors through", async () => {
      await expect(redis.eval("return redis.error_reply('MYERR custom')", [], [])).rejects.toThrow(
        /MYERR custom/,
      );
      expect(await raw.eval("return redis.status_reply('FINE')", [], [])).toBe("FINE");
    });
  });

  describe("keys and scan", () => {
    it("exists/del/unlink/type/expire/ttl/persist/rename/copy/touch/randomkey/keys/scan/dbsize/ping/echo/time", async () => {
      const prefix = unique("keys");
      const [a, b] = [`${prefix}:a`, `${prefix}:b`];
      await redis.set(a, "1");
      expect(await redis.exists(a, b)).toBe(1);
      expect(await redis.type(a)).toBe("string");
      expect(await redis.expire(a, 100)).toBe(1);
      expect(await redis.pttl(a)).toBeGreaterThan(90_000);
      expect(await redis.persist(a)).toBe(1);
      expect(await redis.rename(a, b)).toBe("OK");
      expect(await redis.copy(b, a)).toBe("COPIED");
      expect(await redis.touch(a, b)).toBe(2);
      expect((await redis.keys(`${prefix}:*`)).sort()).toEqual([a, b]);
      const seen: string[] = [];
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, { match: `${prefix}:*`, count: 100 });
        seen.push(...keys);
        cursor = String(next);
      } while (cursor !== "0");
      expect(seen.sort()).toEqual([a, b]);
      expect(await redis.dbsize()).toBeGreaterThan(1);
      expect(typeof (await redis.randomkey())).toBe("string");
      expect(await redis.ping()).toBe("PONG");
      expect(await redis.echo("hi there")).toBe("hi there");
      const [seconds] = await redis.time();
      expect(seconds).toBeGreaterThan(1_600_000_000);
      expect(await redis.unlink(a)).toBe(1);
      expect(await redis.del(b)).toBe(1);
    });
  });

  describe("pipelines", () => {
    it("redis.pipeline() keeps order and returns per-command errors with keepErrors", async () => {
      const k = unique("pipe");
      const pipe = redis.pipeline();
      pipe.set(k, "text");
      pipe.incr(k);
      pipe.get(k);
      pipe.hset(unique("h"), { f: "v" });
      const results = await pipe.exec({ keepErrors: true });
      expect(results.map((item) => item.error)).toEqual([
        undefined,
        "ERR value is not an integer or out of range",
        undefined,
        undefined,
      ]);
      expect(results.map((item) => item.result)).toEqual(["OK", undefined, "text", 1]);
      const failing = redis.pipeline();
      failing.set(k, "x");
      failing.incr(k);
      await expect(failing.exec()).rejects.toThrow(
        /Command 2 \[ incr \] failed: ERR value is not an integer/,
      );
    });

    it("auto-pipelines concurrent commands into one request and answers each", async () => {
      const keys = Array.from({ length: 100 }, (_, index) => `${unique("auto")}:${index}`);
      await Promise.all(keys.map((key, index) => redis.set(key, index)));
      const values = await Promise.all(keys.map((key) => redis.get(key)));
      expect(values).toEqual(keys.map((_, index) => index));
    });

    it("keeps 'OK' inside arrays as OK", async () => {
      const pipe = raw.pipeline();
      pipe.set(unique("ok"), "OK");
      pipe.eval("return {'OK', redis.status_reply('OK'), {'OK'}}", [], []);
      expect(await pipe.exec()).toEqual(["OK", ["OK", "OK", ["OK"]]]);
    });
  });

  describe("multi", () => {
    it("runs a transaction and reports runtime errors in their slot", async () => {
      const k = unique("tx");
      const tx = redis.multi();
      tx.set(k, "v");
      tx.incr(k);
      tx.get(k);
      const results = await tx.exec({ keepErrors: true });
      expect(results.map((item) => item.result)).toEqual(["OK", undefined, "v"]);
      expect(results[1]?.error).toBe("ERR value is not an integer or out of range");
    });
  });

  describe("errors", () => {
    it("reports Redis's own error text", async () => {
      const k = unique("wrongtype");
      await redis.lpush(k, "x");
      await expect(redis.get(k)).rejects.toThrow(
        /WRONGTYPE Operation against a key holding the wrong kind of value/,
      );
    });

    it("answers read-your-writes with a changing sync token", async () => {
      const client = clientFor();
      await client.set(unique("ryw"), "1");
      const first = client.readYourWritesSyncToken;
      await client.set(unique("ryw"), "2");
      expect(first).toBeTruthy();
      expect(client.readYourWritesSyncToken).toBeTruthy();
      expect(client.readYourWritesSyncToken).not.toBe(first);
    });
  });
}

/** GET through the proxy with base64 and no client-side decoding: the bytes exactly as sent. */
async function rawBase64Get(key: string): Promise<string> {
  const { url, token } = current;
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "upstash-encoding": "base64" },
    body: JSON.stringify(["get", key]),
  });
  const body = (await response.json()) as { result: string };
  return body.result;
}
