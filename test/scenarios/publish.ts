import assert from "node:assert/strict";
import { EMPTY_EPOCH, encodeCursor, START_STREAM_ID } from "../../src/protocol/cursor.ts";
import {
  authed,
  cursorParts,
  expectJson,
  expectProblem,
  jsonInit,
  redisCalls,
  textInit,
} from "./assertions.ts";
import { type RelayTarget, type Scenario, uniqueName } from "./harness.ts";
import { openSse } from "./sse-stream.ts";

/** Publishing and channel administration (docs/data-model.md, docs/api.md): what the publish script stores, and where. */

type Published = { id: string; channel: string; time: number };
const keys = (channel: string) => ({ log: `relay:{${channel}}:log`, epoch: `relay:{${channel}}:epoch` });
/** XRANGE as [{id, fields}] (raw client: flat field lists). */
async function entries(
  target: RelayTarget,
  channel: string,
): Promise<{ id: string; fields: Record<string, string> }[]> {
  const raw = (await target.redis.xrange(keys(channel).log, "-", "+")) as unknown;
  const list = Array.isArray(raw)
    ? (raw as [string, string[]][])
    : Object.entries(raw as Record<string, Record<string, string>>).map(
        ([id, f]) => [id, Object.entries(f).flat()] as [string, string[]],
      );
  return list.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    return { id, fields };
  });
}
/** The cursor "before the first message" of a channel. */
const encodeCursorOf = (channel: string) =>
  encodeCursor({ channel, epoch: EMPTY_EPOCH, streamId: START_STREAM_ID });
const publish = (target: RelayTarget, channel: string, init: RequestInit, query = "") =>
  authed(target, `publish:${channel}`, `/v1/channels/${channel}/messages${query}`, init);

export const publishScenarios: Scenario[] = [
  {
    name: "publish: a JSON body is stored unchanged as one stream entry (data, type=json), with the epoch and TTLs",
    async run(target) {
      const channel = uniqueName("pub-json");
      const body = '{"order": 17,\n "big": 12345678901234567890}';
      const before = Date.now();
      const response = await publish(target, channel, jsonInit("POST", body));
      const published = await expectJson<Published>(response, 201);
      assert.equal(published.channel, channel);
      assert.ok(
        published.time >= before - 5_000 && published.time <= Date.now() + 5_000,
        "time is the stream id's ms",
      );
      const cursor = cursorParts(published.id);
      assert.equal(cursor.channel, channel);
      assert.equal(cursor.epoch, await target.redis.get(keys(channel).epoch));
      assert.equal(cursor.streamId.split("-")[0], String(published.time));
      assert.deepEqual(await entries(target, channel), [
        { id: cursor.streamId, fields: { data: body, type: "json" } },
      ]);
      // Delivered with its numbers as sent: a 64-bit id must not come back rounded to a double.
      const history = await authed(target, `subscribe:${channel}`, `/v1/channels/${channel}/messages`);
      assert.match(await history.text(), /"data":\{"order":17,"big":12345678901234567890\}/);
      for (const key of [keys(channel).log, keys(channel).epoch]) {
        const ttl = await target.redis.ttl(key);
        assert.ok(ttl > 86_000 && ttl <= 86_400, `${key} has the history TTL, got ${ttl}`);
      }
      // Every publish refreshes both TTLs.
      await target.redis.expire(keys(channel).log, 50);
      await target.redis.expire(keys(channel).epoch, 50);
      await expectJson<Published>(await publish(target, channel, jsonInit("POST", 2)), 201);
      for (const key of [keys(channel).log, keys(channel).epoch]) {
        const ttl = await target.redis.ttl(key);
        assert.ok(ttl > 86_000, `${key} TTL refreshed by the publish, got ${ttl}`);
      }
    },
  },
  {
    name: "publish: text/* with ?event= stores type=text and the event; later publishes keep the epoch and order",
    async run(target) {
      const channel = uniqueName("pub-text");
      const first = await expectJson<Published>(
        await publish(
          target,
          channel,
          textInit("POST", "hello\nworld", "text/plain; charset=utf-8"),
          "?event=greeting.v1",
        ),
        201,
      );
      const second = await expectJson<Published>(
        await publish(target, channel, textInit("POST", "", "text/markdown"), "?event=message"),
        201,
      );
      const stored = await entries(target, channel);
      assert.deepEqual(
        stored.map((entry) => entry.fields),
        [
          { data: "hello\nworld", type: "text", event: "greeting.v1" },
          { data: "", type: "text" },
        ],
      );
      assert.equal(cursorParts(first.id).epoch, cursorParts(second.id).epoch);
      assert.deepEqual(
        stored.map((entry) => entry.id),
        [cursorParts(first.id).streamId, cursorParts(second.id).streamId],
      );
    },
  },
  {
    name: "publish: an Idempotency-Key answers 200 with the first id and publishes nothing more, per channel",
    async run(target) {
      const channel = uniqueName("pub-idem");
      const other = uniqueName("pub-idem-other");
      const headers = { "idempotency-key": "order-17:attempt" };
      const first = await publish(target, channel, jsonInit("POST", { n: 1 }, headers));
      const firstBody = await expectJson<Published>(first, 201);
      const retry = await expectJson<Published>(
        await publish(target, channel, jsonInit("POST", { n: 2 }, headers)),
        200,
      );
      assert.deepEqual(retry, firstBody);
      assert.equal(await target.redis.xlen(keys(channel).log), 1);
      const idemTtl = await target.redis.ttl(`relay:{${channel}}:idem:order-17:attempt`);
      assert.ok(
        idemTtl > 0 && idemTtl <= 300,
        `idempotency record expires after RELAY_IDEMPOTENCY_S, got ${idemTtl}`,
      );
      await expectJson<Published>(
        await publish(target, channel, jsonInit("POST", { n: 3 }, { "idempotency-key": "another" })),
        201,
      );
      await expectJson<Published>(
        await authed(
          target,
          `publish:${other}`,
          `/v1/channels/${other}/messages`,
          jsonInit("POST", { n: 1 }, headers),
        ),
        201,
      );
      assert.equal(await target.redis.xlen(keys(channel).log), 2);
      assert.equal(await target.redis.xlen(keys(other).log), 1);
    },
  },
  {
    name: "publish: concurrent retries with one Idempotency-Key store exactly one message",
    async run(target) {
      const channel = uniqueName("pub-idem-race");
      const responses = await Promise.all(
        Array.from({ length: 8 }, () =>
          publish(target, channel, jsonInit("POST", { same: true }, { "idempotency-key": "k" })),
        ),
      );
      const bodies = await Promise.all(responses.map((response) => response.json() as Promise<Published>));
      assert.deepEqual(responses.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 201]);
      assert.equal(new Set(bodies.map((body) => body.id)).size, 1);
      assert.equal(await target.redis.xlen(keys(channel).log), 1);
    },
  },
  {
    name: "publish: a batch publishes in order across channels in one Redis round trip; strings are text, the rest compact JSON",
    async run(target) {
      const a = uniqueName("batch-a");
      const b = uniqueName("batch-b");
      const messages = [
        { channel: a, data: "one" },
        { channel: b, data: { n: 1, nested: [true, null] }, event: "created" },
        { channel: a, data: 2 },
        { channel: a, data: "three", event: "x" },
        { channel: b, data: ["4"] },
      ];
      const response = await authed(
        target,
        `publish:${a} publish:${b}`,
        "/v1/publish",
        jsonInit("POST", { messages }),
      );
      assert.equal(redisCalls(response), 1, "one round trip for the whole batch");
      const result = await expectJson<{ messages: Published[] }>(response, 201);
      assert.deepEqual(
        result.messages.map((m) => m.channel),
        messages.map((m) => m.channel),
      );
      const storedA = await entries(target, a);
      const storedB = await entries(target, b);
      assert.deepEqual(
        storedA.map((e) => e.fields),
        [
          { data: "one", type: "text" },
          { data: "2", type: "json" },
          { data: "three", type: "text", event: "x" },
        ],
      );
      assert.deepEqual(
        storedB.map((e) => e.fields),
        [
          { data: '{"n":1,"nested":[true,null]}', type: "json", event: "created" },
          { data: '["4"]', type: "json" },
        ],
      );
      assert.deepEqual(
        result.messages.filter((m) => m.channel === a).map((m) => cursorParts(m.id).streamId),
        storedA.map((e) => e.id),
      );
      assert.deepEqual(
        result.messages.filter((m) => m.channel === b).map((m) => cursorParts(m.id).streamId),
        storedB.map((e) => e.id),
      );
      // JSON nested deeper than the relay could serialise again is refused (400, nothing written) instead of
      // storing a message that breaks every read of its channel; one written by a foreign publisher is
      // delivered as its text, and the history stays readable.
      const deep = uniqueName("batch-deep");
      const nested = `${"[".repeat(20_000)}1${"]".repeat(20_000)}`;
      const deepBody = `{"messages":[{"channel":"${deep}","data":${nested}}]}`;
      const scope = `publish:${deep} subscribe:${deep}`;
      await expectProblem(
        await authed(target, scope, "/v1/publish", jsonInit("POST", deepBody)),
        400,
        "invalid_json",
      );
      const path = `/v1/channels/${deep}/messages`;
      await expectProblem(await authed(target, scope, path, jsonInit("POST", nested)), 400, "invalid_json");
      assert.equal(await target.redis.exists(keys(deep).log), 0, "nothing written");
      await target.redis.xadd(keys(deep).log, "*", { data: nested, type: "json" });
      const deepHistory = await expectJson<{ messages: { data: unknown }[] }>(
        await authed(target, scope, path),
        200,
      );
      assert.equal(deepHistory.messages[0]?.data, nested);
      const ok = `${"[".repeat(500)}1${"]".repeat(500)}`;
      await expectJson(await authed(target, scope, path, jsonInit("POST", ok)), 201);
      // Numbers are stored with the digits sent, never rounded through a double (a 64-bit id stays exact).
      const exact = uniqueName("batch-exact");
      const raw = `{"messages":[{"channel":"${exact}","data":{"id":12345678901234567890,"x":1.50,"big":1e400}}]}`;
      await expectJson(await authed(target, `publish:${exact}`, "/v1/publish", jsonInit("POST", raw)), 201);
      assert.deepEqual(
        (await entries(target, exact)).map((e) => e.fields),
        [{ data: '{"id":12345678901234567890,"x":1.5,"big":1e400}', type: "json" }],
      );
    },
  },
  {
    name: "publish: batch messages with an idempotencyKey are published once; a retried batch answers the same ids",
    async run(target) {
      const a = uniqueName("batch-idem-a");
      const b = uniqueName("batch-idem-b");
      const batch = {
        messages: [
          { channel: a, data: { n: 1 }, idempotencyKey: "job-1" },
          { channel: b, data: "two", idempotencyKey: "job-1" },
          { channel: a, data: { n: 3 } },
        ],
      };
      const scope = `publish:${a} publish:${b}`;
      const first = await expectJson<{ messages: Published[] }>(
        await authed(target, scope, "/v1/publish", jsonInit("POST", batch)),
        201,
      );
      const retry = await expectJson<{ messages: Published[] }>(
        await authed(target, scope, "/v1/publish", jsonInit("POST", batch)),
        201,
      );
      assert.deepEqual(
        retry.messages.slice(0, 2),
        first.messages.slice(0, 2),
        "keyed messages answer their first ids",
      );
      assert.notEqual(
        retry.messages[2]?.id,
        first.messages[2]?.id,
        "a message without a key is published again",
      );
      assert.equal(await target.redis.xlen(keys(a).log), 3);
      assert.equal(await target.redis.xlen(keys(b).log), 1);
      await expectProblem(
        await authed(target, scope, "/v1/publish", jsonInit("POST", batch, { "idempotency-key": "k" })),
        400,
        "invalid_header",
      );
      await expectProblem(
        await authed(
          target,
          scope,
          "/v1/publish",
          jsonInit("POST", { messages: [{ channel: a, data: 1, idempotencyKey: "has space" }] }),
        ),
        400,
        "invalid_body",
      );
      assert.equal(await target.redis.xlen(keys(a).log), 3, "rejected batches publish nothing");
    },
  },
  {
    name: "publish: a batch with one bad or forbidden message is rejected whole and writes nothing",
    async run(target) {
      const a = uniqueName("batch-bad");
      const good = { channel: a, data: 1 };
      const invalidBatches: unknown[] = [
        { messages: [good, { channel: "bad channel", data: 1 }] },
        { messages: [good, { channel: a, data: 1, event: "reset" }] },
        { messages: [good, { channel: a }] },
        { messages: [good, { channel: a, data: 1, extra: true }] },
        { messages: [] },
        { messages: Array.from({ length: 101 }, () => good) },
        [good],
      ];
      for (const batch of invalidBatches) {
        await expectProblem(
          await authed(target, "publish:*", "/v1/publish", jsonInit("POST", batch)),
          400,
          "invalid_body",
        );
      }
      const forbidden = await authed(
        target,
        `publish:${a}`,
        "/v1/publish",
        jsonInit("POST", { messages: [good, { channel: `${a}-x`, data: 1 }] }),
      );
      const problem = await expectProblem(forbidden, 403, "forbidden");
      assert.match(problem.detail, new RegExp(`publish:${a}-x`));
      assert.equal(await target.redis.exists(keys(a).log, keys(a).epoch, keys(`${a}-x`).log), 0);
    },
  },
  {
    name: "publish: a batch with one channel key of the wrong Redis type is 409 wrong_type and stores and announces nothing",
    async run(target) {
      const a = uniqueName("batch-atomic-a");
      const b = uniqueName("batch-atomic-b");
      const bad = uniqueName("batch-atomic-bad");
      const scope = `publish:* subscribe:*`;
      await target.redis.set(keys(bad).log, "not a stream");
      const token = await target.token(scope);
      const live = await openSse(target, `/v1/events?channel=${a}&channel=${b}&access_token=${token}`);
      try {
        const batch = {
          messages: [
            { channel: a, data: "before", idempotencyKey: "job-7" },
            { channel: b, data: { n: 1 } },
            { channel: bad, data: "bad" },
            { channel: a, data: "after" },
          ],
        };
        const problem = await expectProblem(
          await authed(target, scope, "/v1/publish", jsonInit("POST", batch)),
          409,
          "wrong_type",
        );
        for (const channel of [a, b]) {
          assert.equal(
            await target.redis.exists(keys(channel).log, keys(channel).epoch),
            0,
            `${channel}: nothing stored`,
          );
          const history = await expectJson<{ messages: unknown[] }>(
            await authed(target, scope, `/v1/channels/${channel}/messages`),
            200,
          );
          assert.deepEqual(history.messages, []);
        }
        assert.equal(await target.redis.get(keys(bad).log), "not a stream", "the foreign key is left alone");
        assert.equal(problem.index, 2, "the problem names the offending message");
        assert.equal(problem.redisType, "string");
        assert.equal(await target.redis.exists(`relay:{${a}}:idem:job-7`), 0, "the key was not consumed");
        // The live subscriber got nothing from the rejected batch: the first thing it sees is the next publish.
        await expectJson(await publish(target, b, jsonInit("POST", { marker: true })), 201);
        const first = await live.next();
        assert.match(first.data, /"data":\{"marker":true\}/);
        assert.deepEqual(live.pending(), []);

        // Once the key is fixed, the same batch publishes every message once, keyed one included.
        await target.redis.del(keys(bad).log);
        const retried = await expectJson<{ messages: Published[] }>(
          await authed(target, scope, "/v1/publish", jsonInit("POST", batch)),
          201,
        );
        assert.deepEqual(
          retried.messages.map((m) => m.channel),
          [a, b, bad, a],
        );
        assert.equal(await target.redis.xlen(keys(a).log), 2);
        assert.equal(await target.redis.xlen(keys(b).log), 2);
      } finally {
        await live.close();
      }
    },
  },
  {
    name: "publish: a batch whose keyed messages were all seen answers 200 with their first ids and publishes nothing",
    async run(target) {
      const a = uniqueName("batch-seen-a");
      const b = uniqueName("batch-seen-b");
      const scope = `publish:${a} publish:${b}`;
      const batch = {
        messages: [
          { channel: a, data: 1, idempotencyKey: "k1" },
          { channel: b, data: 2, idempotencyKey: "k1" },
        ],
      };
      const first = await expectJson<{ messages: Published[] }>(
        await authed(target, scope, "/v1/publish", jsonInit("POST", batch)),
        201,
      );
      const again = await expectJson<{ messages: Published[] }>(
        await authed(target, scope, "/v1/publish", jsonInit("POST", batch)),
        200,
      );
      assert.deepEqual(again, first);
      // Partly seen (a new keyed message joins): the seen one answers its first id, the new one is published.
      const grown = { messages: [...batch.messages, { channel: a, data: 3, idempotencyKey: "k2" }] };
      const partly = await expectJson<{ messages: Published[] }>(
        await authed(target, scope, "/v1/publish", jsonInit("POST", grown)),
        201,
      );
      assert.deepEqual(partly.messages.slice(0, 2), first.messages);
      assert.equal(await target.redis.xlen(keys(a).log), 2);
      assert.equal(await target.redis.xlen(keys(b).log), 1);
    },
  },
  {
    name: "wrong type: a channel whose log is not a stream is 409 wrong_type for publish, long-poll and SSE alike",
    async run(target) {
      const channel = uniqueName("wrong-type");
      await target.redis.set(keys(channel).log, "not a stream");
      const scope = `publish:${channel} subscribe:${channel}`;
      const base = `/v1/channels/${channel}`;
      for (const [label, request] of [
        ["publish", () => authed(target, scope, `${base}/messages`, jsonInit("POST", 1))],
        ["history", () => authed(target, scope, `${base}/messages`)],
        [
          "long-poll",
          () => authed(target, scope, `${base}/messages?after=${encodeCursorOf(channel)}&wait=1`),
        ],
        ["sse", () => authed(target, scope, `${base}/events`)],
        ["sse resume", () => authed(target, scope, `${base}/events?lastEventId=${encodeCursorOf(channel)}`)],
      ] as const) {
        const response = await request();
        assert.equal(response.status, 409, `${label}: 409, got ${response.status}`);
        await expectProblem(response, 409, "wrong_type");
      }
      assert.equal(await target.redis.get(keys(channel).log), "not a stream", "left alone");
    },
  },
  {
    name: "channels: info reports length, first, last and epoch; DELETE needs admin, then starts a new epoch with no history",
    async run(target) {
      const channel = uniqueName("chan-info");
      const empty = await expectJson<Record<string, unknown>>(
        await authed(target, `subscribe:${channel}`, `/v1/channels/${channel}`),
        200,
      );
      assert.deepEqual(empty, { channel, length: 0, first: null, last: null, epoch: null });
      const ids: string[] = [];
      for (const n of [1, 2, 3])
        ids.push(
          (await expectJson<Published>(await publish(target, channel, jsonInit("POST", { n })), 201)).id,
        );
      const info = await expectJson<Record<string, unknown>>(
        await authed(target, `subscribe:${channel}`, `/v1/channels/${channel}`),
        200,
      );
      const epoch = cursorParts(ids[0] as string).epoch;
      assert.deepEqual(info, { channel, length: 3, first: ids[0], last: ids[2], epoch });
      await expectProblem(
        await authed(target, `publish:${channel} subscribe:${channel}`, `/v1/channels/${channel}`, {
          method: "DELETE",
        }),
        403,
        "forbidden",
      );
      assert.equal(await target.redis.xlen(keys(channel).log), 3, "a forbidden DELETE changes nothing");
      const dropped = await authed(target, "admin", `/v1/channels/${channel}`, { method: "DELETE" });
      assert.equal(dropped.status, 204);
      const after = await expectJson<{ epoch: string; length: number }>(
        await authed(target, `subscribe:${channel}`, `/v1/channels/${channel}`),
        200,
      );
      assert.equal(after.length, 0);
      assert.notEqual(after.epoch, epoch, "a dropped channel has a new epoch, so old cursors reset");
      const next = await expectJson<Published>(
        await publish(target, channel, jsonInit("POST", { n: 4 })),
        201,
      );
      assert.equal(cursorParts(next.id).epoch, after.epoch);
      const never = uniqueName("chan-never");
      assert.equal(
        (await authed(target, "admin", `/v1/channels/${never}`, { method: "DELETE" })).status,
        204,
      );
      assert.equal(
        await target.redis.exists(keys(never).log, keys(never).epoch),
        0,
        "dropping an unknown channel creates nothing",
      );
    },
  },
  {
    name: "health and openapi: /healthz answers without auth; /openapi.json is OpenAPI 3.1 covering every route",
    async run(target) {
      const health = await target.fetch("/healthz");
      assert.deepEqual(await expectJson(health, 200), { ok: true });
      const doc = await expectJson<{
        openapi: string;
        paths: Record<string, Record<string, unknown>>;
        components: { schemas: Record<string, unknown> };
      }>(await target.fetch("/openapi.json"), 200);
      assert.equal(doc.openapi, "3.1.0");
      const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
      );
      for (const route of [
        "GET /healthz",
        "GET /v1/kv",
        "GET /v1/kv/{key}",
        "PUT /v1/kv/{key}",
        "DELETE /v1/kv/{key}",
        "POST /v1/channels/{channel}/messages",
        "GET /v1/channels/{channel}/messages",
        "GET /v1/channels/{channel}",
        "DELETE /v1/channels/{channel}",
        "POST /v1/publish",
        "GET /v1/channels/{channel}/events",
        "GET /v1/events",
      ]) {
        assert.ok(routes.includes(route), `openapi documents ${route}`);
      }
      for (const schema of [
        "Message",
        "Problem",
        "PublishResult",
        "BatchPublishRequest",
        "KvList",
        "ChannelInfo",
        "History",
      ]) {
        assert.ok(schema in doc.components.schemas, `component ${schema}`);
      }
    },
  },
  {
    name: "budget: each route makes a bounded number of Redis round trips (Workers subrequests); rejections make none",
    async run(target) {
      const channel = uniqueName("budget");
      const key = uniqueName("budget-key");
      const all = "admin";
      // Warm the script cache (a cold Redis answers NOSCRIPT once: EVALSHA then EVAL).
      await authed(target, all, `/v1/kv/${key}`, textInit("PUT", "warm"));
      await authed(target, all, `/v1/kv/${key}`);
      await authed(target, all, `/v1/kv/${key}`, { method: "DELETE" });
      await authed(target, all, `/v1/channels/${channel}/messages`, jsonInit("POST", 0));
      await authed(target, all, `/v1/channels/${channel}`);
      const expected: [string, () => Promise<Response>, number][] = [
        ["PUT kv", () => authed(target, all, `/v1/kv/${key}`, textInit("PUT", "v")), 1],
        ["GET kv", () => authed(target, all, `/v1/kv/${key}`), 1],
        ["GET kv list", () => authed(target, all, `/v1/kv?prefix=${key}`), 1],
        ["DELETE kv", () => authed(target, all, `/v1/kv/${key}`, { method: "DELETE" }), 1],
        ["publish", () => authed(target, all, `/v1/channels/${channel}/messages`, jsonInit("POST", 1)), 1],
        [
          "publish replay",
          () =>
            authed(
              target,
              all,
              `/v1/channels/${channel}/messages`,
              jsonInit("POST", 1, { "idempotency-key": "b" }),
            ),
          1,
        ],
        [
          "batch of 50",
          () =>
            authed(
              target,
              all,
              "/v1/publish",
              jsonInit("POST", { messages: Array.from({ length: 50 }, (_, n) => ({ channel, data: n })) }),
            ),
          1,
        ],
        ["channel info", () => authed(target, all, `/v1/channels/${channel}`), 1],
        ["health", () => target.fetch("/healthz"), 1],
        ["openapi", () => target.fetch("/openapi.json"), 0],
        ["401", () => target.fetch(`/v1/kv/${key}`), 0],
        ["400", () => authed(target, all, "/v1/kv/bad%20key"), 0],
        ["403", () => authed(target, "kv:read:other", `/v1/kv/${key}`), 0],
        ["413", () => authed(target, all, `/v1/kv/${key}`, textInit("PUT", "x".repeat(1_048_577))), 0],
      ];
      for (const [label, call, calls] of expected) {
        const response = await call();
        await response.arrayBuffer();
        assert.equal(redisCalls(response), calls, `${label}: ${calls} Redis round trip(s)`);
      }
    },
  },
];
