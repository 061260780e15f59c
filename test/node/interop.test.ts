import { createHash } from "node:crypto";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { decodeCursor } from "../../src/protocol/cursor.ts";
import { createApp } from "../../src/relay/app.ts";
import { parseConfig } from "../../src/relay/config.ts";
import { createRelayRedis } from "../../src/relay/redis/client.ts";
import { readHistory } from "../../src/relay/redis/history.ts";
import { parseLiveNotification } from "../../src/relay/redis/notification.ts";
import { PUBLISH_LUA } from "../../src/relay/redis/publish-script.ts";
import { uniqueName } from "../scenarios/harness.ts";

/**
 * Interop with a plain TCP Redis client (ioredis), the way a Python or Go process would use the data model
 * (docs/data-model.md): the relay over HTTP on one side, redis-server's own protocol on the other.
 */
const env = {
  UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
  UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
  RELAY_AUTH: "none",
};
const config = parseConfig(env);
const app = createApp({ config });
const quietApp = createApp({ config: parseConfig({ ...env, RELAY_MIRROR_RAW: "false" }) });
const relayRedis = createRelayRedis(config);
let plain: IORedis;
let subscriber: IORedis;

beforeAll(() => {
  plain = new IORedis(inject("redisUrl"));
  subscriber = new IORedis(inject("redisUrl"));
});
afterAll(async () => {
  plain.disconnect();
  subscriber.disconnect();
});

/** Subscribes with a plain client and resolves with the first `count` raw payloads (as bytes). */
async function collect(
  channel: string,
  count: number,
): Promise<{ ready: Promise<unknown>; messages: Promise<Buffer[]> }> {
  const received: Buffer[] = [];
  const messages = new Promise<Buffer[]>((resolve) => {
    const onMessage = (from: Buffer, payload: Buffer) => {
      if (from.toString() !== channel) return;
      received.push(payload);
      if (received.length === count) {
        subscriber.off("messageBuffer", onMessage);
        resolve(received);
      }
    };
    subscriber.on("messageBuffer", onMessage);
  });
  return { ready: subscriber.subscribe(channel), messages };
}

describe("interop with a plain Redis client", () => {
  it("an HTTP publish arrives byte for byte on the classic pub/sub channel, and as one line on the live channel", async () => {
    const channel = uniqueName("interop-raw");
    const json = '{"text": "grüße 🚀",\n  "n": 12345678901234567890}';
    const text = "line one\r\nline two\u0000 end";
    const raw = await collect(channel, 2);
    const live = await collect(`relay:{${channel}}:live`, 2);
    await Promise.all([raw.ready, live.ready]);
    const first = await app.request(`/v1/channels/${channel}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: json,
    });
    expect(first.status).toBe(201);
    const second = await app.request(`/v1/channels/${channel}/messages?event=note`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: text,
    });
    expect(second.status).toBe(201);
    expect((await raw.messages).map((b) => b.toString("hex"))).toEqual([
      Buffer.from(json).toString("hex"),
      Buffer.from(text).toString("hex"),
    ]);
    const lines = (await live.messages).map((b) => b.toString("utf8"));
    for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
    const history = await readHistory(relayRedis, { channel, limit: 10 });
    const parsed = lines.map((line) => parseLiveNotification(channel, line));
    expect(parsed.map((note) => (note?.kind === "message" ? note.message : note))).toEqual(history.messages);
    // The JSON as the relay sends it: compact, with the 64-bit number's digits intact.
    expect(JSON.stringify(history.messages[0]?.data)).toBe('{"text":"grüße 🚀","n":12345678901234567890}');
    expect(history.messages[1]?.data).toBe(text);
    expect(history.messages[1]?.event).toBe("note");
  });

  it("RELAY_MIRROR_RAW=false publishes no raw payload (the next mirrored message is the first to arrive)", async () => {
    const channel = uniqueName("interop-quiet");
    const raw = await collect(channel, 1);
    await raw.ready;
    const quiet = await quietApp.request(`/v1/channels/${channel}/messages`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "not mirrored",
    });
    expect(quiet.status).toBe(201);
    expect(
      await app.request(`/v1/channels/${channel}/messages`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "mirrored",
      }),
    ).toHaveProperty("status", 201);
    expect((await raw.messages).map(String)).toEqual(["mirrored"]);
    expect(await plain.xlen(`relay:{${channel}}:log`)).toBe(2);
  });

  it("a KV value stored over HTTP reads back from Redis as the same bytes, and a plain SET reads back over HTTP", async () => {
    const key = uniqueName("interop-kv");
    const value = '{"name": "Zoë", "emoji": "🦀", "nl": "a\\nb"}';
    const put = await app.request(`/v1/kv/${key}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: value,
    });
    expect(put.status).toBe(201);
    expect((await plain.getBuffer(key))?.equals(Buffer.from(value))).toBe(true);
    expect(JSON.parse((await plain.get(key)) as string)).toEqual(JSON.parse(value));
    expect(put.headers.get("etag")).toBe(`"${createHash("sha1").update(value).digest("hex")}"`);
    await plain.set(key, JSON.stringify({ from: "python", ok: true }));
    const read = await app.request(`/v1/kv/${key}`);
    expect(read.headers.get("content-type")).toBe("application/json");
    expect(await read.json()).toEqual({ from: "python", ok: true });
    expect(read.headers.get("etag")).toBe(
      `"${createHash("sha1")
        .update(JSON.stringify({ from: "python", ok: true }))
        .digest("hex")}"`,
    );
  });

  it("a durable publish done with EVAL of the documented script from a plain client shows up in history", async () => {
    const channel = uniqueName("interop-eval");
    const keys = [`relay:{${channel}}:log`, `relay:{${channel}}:epoch`];
    const raw = await collect(channel, 2);
    await raw.ready;
    // The exact call docs/data-model.md shows for Python: EVAL script 2 log epoch channel data type event epoch maxlen ttl idem-ttl mirror
    const reply = (await plain.eval(
      PUBLISH_LUA,
      2,
      ...keys,
      channel,
      '{"from":"go"}',
      "json",
      "",
      "",
      "1000",
      "86400",
      "300",
      "1",
    )) as [string, string, number, number];
    expect(reply[0]).toMatch(/^\d+-\d+$/);
    expect(reply[1]).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(reply[2]).toBe(1);
    expect(reply[3]).toBe(0);
    const sha = createHash("sha1").update(PUBLISH_LUA).digest("hex");
    const again = (await plain.evalsha(
      sha,
      3,
      ...keys,
      `relay:{${channel}}:idem:job-1`,
      channel,
      "plain text",
      "text",
      "done",
      "",
      "1000",
      "86400",
      "300",
      "1",
    )) as [string, string, number, number];
    expect(again[1]).toBe(reply[1]);
    const replay = (await plain.evalsha(
      sha,
      3,
      ...keys,
      `relay:{${channel}}:idem:job-1`,
      channel,
      "ignored",
      "text",
      "",
      "",
      "1000",
      "86400",
      "300",
      "1",
    )) as [string, string, number, number];
    expect(replay).toEqual([again[0], again[1], 0, 1]);
    expect((await raw.messages).map(String)).toEqual(['{"from":"go"}', "plain text"]);
    const history = await app.request(`/v1/channels/${channel}/messages`);
    expect(history.status).toBe(200);
    const body = (await history.json()) as { messages: { id: string; data: unknown; event: string }[] };
    expect(body.messages.map((m) => [m.data, m.event])).toEqual([
      [{ from: "go" }, "message"],
      ["plain text", "done"],
    ]);
    expect(body.messages.map((m) => decodeCursor(m.id).streamId)).toEqual([reply[0], again[0]]);
    const info = (await (await app.request(`/v1/channels/${channel}`)).json()) as {
      length: number;
      epoch: string;
    };
    expect(info).toMatchObject({ length: 2, epoch: reply[1] });
  });

  it("the script refuses keys that do not belong to the channel and an invalid type, writing nothing", async () => {
    const channel = uniqueName("interop-bad");
    const keys = [`relay:{${channel}}:log`, `relay:{${channel}}:epoch`];
    // [KEYS..., then ARGV: channel data type event epoch maxlen ttl idem-ttl mirror]
    const calls: [string[], string[], RegExp][] = [
      [
        ["relay:{other}:log", keys[1] as string],
        [channel, "x", "text", "", "", "10", "60", "60", "1"],
        /KEYS/,
      ],
      [keys, [channel, "x", "binary", "", "", "10", "60", "60", "1"], /type/],
      [keys, [channel, "x", "text", "", "bad epoch!", "10", "60", "60", "1"], /epoch/],
    ];
    for (const [callKeys, args, error] of calls) {
      await expect(plain.eval(PUBLISH_LUA, callKeys.length, ...callKeys, ...args)).rejects.toThrow(error);
    }
    expect(await plain.exists(`relay:{${channel}}:log`, `relay:{${channel}}:epoch`)).toBe(0);
  });
});
