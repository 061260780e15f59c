import assert from "node:assert/strict";
import { kvKeys } from "../../src/relay/redis/keys.ts";
import {
  authed,
  encodeKey,
  expectJson,
  expectProblem,
  expectStatus,
  hashOf,
  jsonInit,
  sha1Hex,
  textInit,
} from "./assertions.ts";
import { type RelayTarget, type Scenario, uniqueName } from "./harness.ts";

/** KV over HTTP (docs/api.md), against a real relay, proxy and redis-server. */

const ALL = "kv:read:* kv:write:*";
type WriteResult = { key: string; etag: string };
const meta = (key: string) => `relay:{${key}}:meta`;

async function put(target: RelayTarget, key: string, init: RequestInit, query = ""): Promise<Response> {
  return authed(target, ALL, `/v1/kv/${encodeKey(key)}${query}`, init);
}
const get = (target: RelayTarget, key: string, headers: Record<string, string> = {}) =>
  authed(target, ALL, `/v1/kv/${encodeKey(key)}`, { headers });

export const kvScenarios: Scenario[] = [
  {
    name: "kv: a JSON value round-trips with its content type and a sha1 ETag; a second PUT replaces (200)",
    async run(target) {
      const key = uniqueName("kv-json");
      const body = '{"b": [1, 2.50, "x"],\n "a": null}';
      const created = await put(target, key, jsonInit("PUT", body));
      const etag = `"${await sha1Hex(body)}"`;
      assert.equal(created.headers.get("etag"), etag);
      assert.deepEqual(await expectJson<WriteResult>(created, 201), { key, etag });
      const read = await get(target, key);
      assert.equal(await expectStatus(read, 200), body, "the stored text comes back unchanged");
      assert.equal(read.headers.get("content-type"), "application/json");
      assert.equal(read.headers.get("etag"), etag);
      assert.equal(await target.redis.get(key), body, "a plain Redis GET sees the same JSON text");
      const replaced = await put(target, key, jsonInit("PUT", "[]"));
      assert.deepEqual(await expectJson<WriteResult>(replaced, 200), {
        key,
        etag: `"${await sha1Hex("[]")}"`,
      });
    },
  },
  {
    name: "kv: a text/* value remembers its media type, normalised to UTF-8",
    async run(target) {
      const key = uniqueName("kv-csv");
      await expectStatus(
        await put(target, key, textInit("PUT", "a,b\r\n1,2\r\n", "text/csv; charset=UTF-8")),
        201,
      );
      const read = await get(target, key);
      assert.equal(await expectStatus(read, 200), "a,b\r\n1,2\r\n");
      assert.equal(read.headers.get("content-type"), "text/csv; charset=utf-8");
      assert.deepEqual(await hashOf(target.redis, meta(key)), {
        type: "text/csv; charset=utf-8",
        etag: await sha1Hex("a,b\r\n1,2\r\n"),
      });
    },
  },
  {
    name: "kv: text that looks like JSON stays text/plain when stored as text",
    async run(target) {
      const key = uniqueName("kv-textjson");
      await expectStatus(await put(target, key, textInit("PUT", "123")), 201);
      const read = await get(target, key);
      assert.equal(await expectStatus(read, 200), "123");
      assert.equal(read.headers.get("content-type"), "text/plain; charset=utf-8");
    },
  },
  {
    name: "kv: GET with a matching If-None-Match (strong, weak, list or *) answers 304 without a body",
    async run(target) {
      const key = uniqueName("kv-304");
      const { etag } = await expectJson<WriteResult>(await put(target, key, jsonInit("PUT", { v: 1 })), 201);
      for (const header of [etag, `W/${etag}`, `"0000000000000000000000000000000000000000", ${etag}`, "*"]) {
        const response = await get(target, key, { "if-none-match": header });
        assert.equal(await expectStatus(response, 304), "", `If-None-Match: ${header}`);
        assert.equal(response.headers.get("etag"), etag);
      }
      const stale = await get(target, key, { "if-none-match": '"0000000000000000000000000000000000000000"' });
      assert.equal(await expectStatus(stale, 200), '{"v":1}');
    },
  },
  {
    name: "kv: If-None-Match: * creates only; the second create is 412 and changes nothing",
    async run(target) {
      const key = uniqueName("kv-create");
      await expectStatus(
        await put(target, key, textInit("PUT", "first", "text/plain", { "if-none-match": "*" })),
        201,
      );
      const problem = await expectProblem(
        await put(target, key, textInit("PUT", "second", "text/plain", { "if-none-match": "*" })),
        412,
        "precondition_failed",
      );
      assert.match(problem.detail, /^If-None-Match/);
      // If-Match: * is satisfied (the key exists), so the failing condition is If-None-Match.
      const both = await expectProblem(
        await put(
          target,
          key,
          textInit("PUT", "third", "text/plain", { "if-match": "*", "if-none-match": "*" }),
        ),
        412,
        "precondition_failed",
      );
      assert.match(both.detail, /^If-None-Match/);
      assert.equal(await target.redis.get(key), "first");
    },
  },
  {
    name: "kv: If-Match compare-and-set: a stale or weak ETag is 412, the current one wins; If-Match on a missing key is 412",
    async run(target) {
      const key = uniqueName("kv-cas");
      const first = await expectJson<WriteResult>(await put(target, key, textInit("PUT", "v1")), 201);
      const second = await expectJson<WriteResult>(
        await put(target, key, textInit("PUT", "v2", "text/plain", { "if-match": first.etag })),
        200,
      );
      assert.notEqual(second.etag, first.etag);
      const stale = await expectProblem(
        await put(target, key, textInit("PUT", "v3", "text/plain", { "if-match": first.etag })),
        412,
        "precondition_failed",
      );
      assert.match(
        stale.detail,
        new RegExp(second.etag.replaceAll('"', "")),
        "the 412 names the current ETag",
      );
      await expectProblem(
        await put(target, key, textInit("PUT", "v3", "text/plain", { "if-match": `W/${second.etag}` })),
        412,
        "precondition_failed",
      );
      assert.equal(await target.redis.get(key), "v2");
      await expectStatus(
        await put(target, key, textInit("PUT", "v3", "text/plain", { "if-match": "*" })),
        200,
      );
      const missing = uniqueName("kv-cas-missing");
      await expectProblem(
        await put(target, missing, textInit("PUT", "x", "text/plain", { "if-match": "*" })),
        412,
        "precondition_failed",
      );
      await expectProblem(
        await put(target, missing, textInit("PUT", "x", "text/plain", { "if-match": first.etag })),
        412,
        "precondition_failed",
      );
      assert.equal(
        await target.redis.exists(missing, meta(missing)),
        0,
        "a failed precondition writes nothing",
      );
    },
  },
  {
    name: "kv: many concurrent If-Match writers on one ETag: exactly one wins, the value is the winner's",
    async run(target) {
      const key = uniqueName("kv-race");
      const { etag } = await expectJson<WriteResult>(await put(target, key, textInit("PUT", "start")), 201);
      const writers = Array.from({ length: 12 }, (_, i) => `writer-${i}`);
      const responses = await Promise.all(
        writers.map((value) => put(target, key, textInit("PUT", value, "text/plain", { "if-match": etag }))),
      );
      const statuses = await Promise.all(
        responses.map(async (response) => ({ status: response.status, body: await response.text() })),
      );
      const winners = statuses.flatMap((outcome, i) => (outcome.status === 200 ? [writers[i]] : []));
      assert.equal(
        winners.length,
        1,
        `exactly one writer wins: ${JSON.stringify(statuses.map((s) => s.status))}`,
      );
      assert.ok(statuses.every((outcome) => outcome.status === 200 || outcome.status === 412));
      assert.equal(await target.redis.get(key), winners[0]);
    },
  },
  {
    name: "kv: keys with { or } keep their content type, TTL and delete in the meta hash of their own slot",
    async run(target) {
      for (const shape of ["a}b", "{}x", "x{t}y", "{{t}}"]) {
        const key = `${uniqueName("kv-brace")}${shape}`;
        const csv = "a,b\r\n";
        await expectStatus(await put(target, key, textInit("PUT", csv, "text/csv"), "?ttl=120"), 201);
        const read = await get(target, key);
        assert.equal(await expectStatus(read, 200), csv, key);
        assert.equal(read.headers.get("content-type"), "text/csv; charset=utf-8", key);
        const { meta: metaKey } = kvKeys("", key);
        assert.equal(metaKey === meta(key), !key.includes("}"), "only keys with } move their meta hash");
        assert.deepEqual(await hashOf(target.redis, metaKey), {
          type: "text/csv; charset=utf-8",
          etag: await sha1Hex(csv),
        });
        const metaTtl = await target.redis.ttl(metaKey);
        assert.ok(metaTtl > 0 && metaTtl <= 120, `meta ttl ${metaTtl}`);
        await expectStatus(await authed(target, ALL, `/v1/kv/${encodeKey(key)}`, { method: "DELETE" }), 204);
        assert.equal(await target.redis.exists(key, metaKey), 0);
      }
    },
  },
  {
    name: "kv: ?ttl= sets the TTL on the value and its metadata; a PUT without ttl clears it, as SET does",
    async run(target) {
      const key = uniqueName("kv-ttl");
      await expectStatus(await put(target, key, textInit("PUT", "short"), "?ttl=120"), 201);
      const ttl = await target.redis.ttl(key);
      assert.ok(ttl > 0 && ttl <= 120, `ttl ${ttl}`);
      const metaTtl = await target.redis.ttl(meta(key));
      assert.ok(metaTtl > 0 && metaTtl <= 120, `meta ttl ${metaTtl}`);
      await expectStatus(await put(target, key, textInit("PUT", "forever")), 200);
      assert.equal(await target.redis.ttl(key), -1);
      assert.equal(await target.redis.ttl(meta(key)), -1);
    },
  },
  {
    name: "kv: DELETE is 204 then 404; a stale If-Match is 412 and keeps the value; the metadata goes with it",
    async run(target) {
      const key = uniqueName("kv-del");
      const { etag } = await expectJson<WriteResult>(await put(target, key, jsonInit("PUT", { a: 1 })), 201);
      await expectProblem(
        await authed(target, ALL, `/v1/kv/${key}`, {
          method: "DELETE",
          headers: { "if-match": '"0000000000000000000000000000000000000000"' },
        }),
        412,
        "precondition_failed",
      );
      assert.equal(await target.redis.get(key), '{"a":1}');
      assert.equal(
        await expectStatus(
          await authed(target, ALL, `/v1/kv/${key}`, { method: "DELETE", headers: { "if-match": etag } }),
          204,
        ),
        "",
      );
      assert.equal(await target.redis.exists(key, meta(key)), 0);
      await expectProblem(await get(target, key), 404, "not_found");
      await expectProblem(await authed(target, ALL, `/v1/kv/${key}`, { method: "DELETE" }), 404, "not_found");
    },
  },
  {
    name: "kv: a key holding another Redis type is 409 wrong_type for GET, PUT and DELETE, and is left alone",
    async run(target) {
      const key = uniqueName("kv-list");
      await target.redis.rpush(key, "a", "b");
      await expectProblem(await get(target, key), 409, "wrong_type");
      await expectProblem(await put(target, key, textInit("PUT", "x")), 409, "wrong_type");
      await expectProblem(
        await authed(target, ALL, `/v1/kv/${key}`, { method: "DELETE" }),
        409,
        "wrong_type",
      );
      assert.deepEqual(await target.redis.lrange(key, 0, -1), ["a", "b"]);
      await target.redis.del(key);
    },
  },
  {
    name: "kv: a value written by a plain Redis client changes the ETag and the inferred content type",
    async run(target) {
      const key = uniqueName("kv-foreign");
      const { etag } = await expectJson<WriteResult>(await put(target, key, jsonInit("PUT", { a: 1 })), 201);
      await target.redis.set(key, "written by redis-cli");
      const read = await get(target, key);
      assert.equal(await expectStatus(read, 200), "written by redis-cli");
      assert.equal(read.headers.get("etag"), `"${await sha1Hex("written by redis-cli")}"`);
      assert.notEqual(read.headers.get("etag"), etag);
      assert.equal(
        read.headers.get("content-type"),
        "text/plain; charset=utf-8",
        "stale metadata is not trusted",
      );
      await expectProblem(
        await put(target, key, textInit("PUT", "cas", "text/plain", { "if-match": etag })),
        412,
        "precondition_failed",
      );
      const textKey = uniqueName("kv-foreign-json");
      await expectStatus(await put(target, textKey, textInit("PUT", "plain")), 201);
      await target.redis.set(textKey, '{"from":"python"}');
      const json = await get(target, textKey);
      assert.equal(await expectStatus(json, 200), '{"from":"python"}');
      assert.equal(json.headers.get("content-type"), "application/json");
      const bare = uniqueName("kv-bare");
      await target.redis.set(bare, "[1,2]");
      const bareRead = await get(target, bare);
      assert.equal(bareRead.headers.get("content-type"), "application/json");
      assert.equal(await expectStatus(bareRead, 200), "[1,2]");
    },
  },
  {
    name: "kv: text survives byte for byte (Unicode, emoji, CR/LF, NUL, BOM); keys may hold slashes and Unicode",
    async run(target) {
      const value = "\uFEFFgrüße 🚀\r\nline\u0000end\ttab \u2028";
      const key = uniqueName("dir/sub/clé-😀");
      await expectStatus(await put(target, key, textInit("PUT", value)), 201);
      const read = await get(target, key);
      assert.equal(read.status, 200);
      // Response.text() would drop the BOM; compare the bytes.
      assert.deepEqual(new Uint8Array(await read.arrayBuffer()), new TextEncoder().encode(value));
      assert.equal(
        read.headers.get("etag"),
        `"${await sha1Hex(value)}"`,
        "the ETag covers every byte, BOM included",
      );
      assert.equal((await target.redis.strlen(key)) as number, new TextEncoder().encode(value).byteLength);
      // A base64-decoding client may drop the BOM itself, so compare the rest.
      assert.equal(String(await target.redis.get(key)).replace(/^\uFEFF/, ""), value.slice(1));
    },
  },
  {
    name: "kv: listing by prefix pages with SCAN to cursor 0, never shows relay: keys, filters by kv:read globs",
    async run(target) {
      const prefix = uniqueName("kvlist");
      const keys = [`${prefix}-a1`, `${prefix}-a2`, `${prefix}-b1`, `${prefix}-b2`, `${prefix}-b3`];
      for (const key of keys) await expectStatus(await put(target, key, textInit("PUT", key)), 201);
      const list = async (scope: string) => {
        const found: string[] = [];
        let cursor = "0";
        for (let page = 0; page < 10_000; page++) {
          const response = await authed(
            target,
            scope,
            `/v1/kv?prefix=${encodeURIComponent(prefix)}&limit=50&cursor=${cursor}`,
          );
          const body = await expectJson<{ keys: string[]; cursor: string }>(response, 200);
          found.push(...body.keys);
          cursor = body.cursor;
          if (cursor === "0") break;
        }
        assert.equal(cursor, "0", "the listing ends");
        return found.sort();
      };
      assert.deepEqual(await list("kv:read:*"), keys);
      assert.deepEqual(await list(`kv:read:${prefix}-b*`), keys.slice(2));
      assert.deepEqual(await list(`kv:read:${prefix}-?1 kv:write:*`), [`${prefix}-a1`, `${prefix}-b1`]);
      const everything = await authed(target, "admin", "/v1/kv?limit=1000");
      const page = await expectJson<{ keys: string[] }>(everything, 200);
      assert.ok(
        page.keys.every((key) => !key.startsWith("relay:")),
        "relay: keys are never listed",
      );
      await expectProblem(await authed(target, "kv:write:*", `/v1/kv?prefix=${prefix}`), 403, "forbidden");
    },
  },
  {
    name: "kv: a prefix with glob characters matches literally",
    async run(target) {
      const base = uniqueName("kvglob");
      await expectStatus(await put(target, `${base}*x`, textInit("PUT", "star")), 201);
      await expectStatus(await put(target, `${base}yx`, textInit("PUT", "y")), 201);
      const response = await authed(
        target,
        ALL,
        `/v1/kv?prefix=${encodeURIComponent(`${base}*`)}&limit=1000`,
      );
      const found: string[] = [];
      let body = await expectJson<{ keys: string[]; cursor: string }>(response, 200);
      found.push(...body.keys);
      while (body.cursor !== "0") {
        body = await expectJson(
          await authed(
            target,
            ALL,
            `/v1/kv?prefix=${encodeURIComponent(`${base}*`)}&limit=1000&cursor=${body.cursor}`,
          ),
          200,
        );
        found.push(...body.keys);
      }
      assert.deepEqual(found, [`${base}*x`]);
    },
  },
  {
    name: "kv: HEAD answers the headers of GET without a body; a CORS preflight needs no token; answers and errors carry CORS headers",
    async run(target) {
      const key = uniqueName("kv-head");
      const { etag } = await expectJson<WriteResult>(await put(target, key, textInit("PUT", "hello")), 201);
      const head = await authed(target, ALL, `/v1/kv/${key}`, { method: "HEAD" });
      assert.equal(await expectStatus(head, 200), "");
      assert.equal(head.headers.get("etag"), etag);
      assert.equal(head.headers.get("content-type"), "text/plain; charset=utf-8");
      const preflight = await target.fetch(`/v1/kv/${key}`, {
        method: "OPTIONS",
        headers: {
          origin: "https://app.example",
          "access-control-request-method": "PUT",
          "access-control-request-headers": "authorization, if-match, content-type",
        },
      });
      assert.equal(await expectStatus(preflight, 204), "");
      assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
      assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /If-Match/);
      assert.match(preflight.headers.get("access-control-expose-headers") ?? "", /ETag/);
      // A browser reads an answer, and an error, only with these two headers.
      const answer = await authed(target, ALL, `/v1/kv/${key}`, {
        headers: { origin: "https://app.example" },
      });
      const refused = await target.fetch(`/v1/kv/${key}`, { headers: { origin: "https://app.example" } });
      for (const [response, status] of [
        [answer, 200],
        [refused, 401],
      ] as const) {
        await expectStatus(response, status);
        assert.equal(response.headers.get("access-control-allow-origin"), "*");
        const exposed = response.headers.get("access-control-expose-headers") ?? "";
        for (const name of ["ETag", "x-relay-redis-calls", "Relay-Heartbeat-Ms"])
          assert.match(exposed, new RegExp(name));
      }
      assert.equal(answer.headers.get("x-relay-redis-calls"), "1");
      assert.equal(refused.headers.get("x-relay-redis-calls"), "0");
    },
  },
];
