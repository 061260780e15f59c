import assert from "node:assert/strict";
import { sign } from "hono/jwt";
import {
  authed,
  expectJson,
  expectProblem,
  expectRejections,
  expectStatus,
  jsonInit,
  textInit,
} from "./assertions.ts";
import { type RelayTarget, type Scenario, uniqueName } from "./harness.ts";

/** Auth (docs/api.md, "Auth") and the error precedence of docs/api.md: 401, 413, 415, 400, 403, then 404/409/412. */

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const withToken = (target: RelayTarget, token: string, path: string, init: RequestInit = {}) =>
  target.fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...bearer(token) } });

export const authScenarios: Scenario[] = [
  {
    name: "auth: no token, a malformed header, garbage, a wrong signature or alg=none are 401 with WWW-Authenticate",
    async run(target) {
      const key = uniqueName("auth-key");
      const noToken = await target.fetch(`/v1/kv/${key}`);
      assert.match(noToken.headers.get("www-authenticate") ?? "", /^Bearer/);
      await expectProblem(noToken, 401, "unauthorized");
      await expectProblem(
        await target.fetch(`/v1/kv/${key}`, { headers: { authorization: "Basic dXNlcjpwYXNz" } }),
        401,
        "unauthorized",
      );
      await expectProblem(
        await target.fetch(`/v1/kv/${key}`, { headers: { authorization: "Bearer" } }),
        401,
        "unauthorized",
      );
      await expectProblem(await withToken(target, "not.a.jwt", `/v1/kv/${key}`), 401, "unauthorized");
      await expectProblem(await withToken(target, "x".repeat(10_000), `/v1/kv/${key}`), 401, "unauthorized");
      const forged = await sign(
        { scope: "admin", exp: Math.floor(Date.now() / 1000) + 60 },
        "some-other-secret",
        "HS256",
      );
      const wrongSignature = await expectProblem(
        await withToken(target, forged, `/v1/kv/${key}`),
        401,
        "unauthorized",
      );
      assert.match(wrongSignature.detail, /signature/);
      const header = btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=+$/, "");
      const payload = btoa(JSON.stringify({ scope: "admin" })).replace(/=+$/, "");
      await expectProblem(
        await withToken(target, `${header}.${payload}.`, `/v1/kv/${key}`),
        401,
        "unauthorized",
      );
      const real = await target.token("admin");
      const [h, , s] = real.split(".");
      const tampered = `${h}.${btoa(JSON.stringify({ scope: "admin", exp: 9_999_999_999 })).replace(/=+$/, "")}.${s}`;
      await expectProblem(await withToken(target, tampered, `/v1/kv/${key}`), 401, "unauthorized");
    },
  },
  {
    name: "auth: an expired token is 401 token_expired",
    async run(target) {
      const expired = await target.token("admin", { expiresInSeconds: -30 });
      const problem = await expectProblem(await withToken(target, expired, "/v1/kv/x"), 401, "token_expired");
      assert.match(problem.detail, /expired/);
    },
  },
  {
    name: "auth: a token without exp is 401 saying why (RELAY_REQUIRE_EXP defaults to true); a non-numeric exp is 401",
    async run(target) {
      const key = uniqueName("auth-noexp");
      const path = `/v1/kv/${key}`;
      const forever = await target.token("admin", { claims: { exp: undefined } });
      const problem = await expectProblem(await withToken(target, forever, path), 401, "unauthorized");
      assert.match(problem.detail, /no exp claim.*RELAY_REQUIRE_EXP/);
      for (const exp of ["9999999999", null, { at: 1 }]) {
        const odd = await target.token("admin", { claims: { exp } });
        const malformed = await expectProblem(await withToken(target, odd, path), 401, "token_expired");
        assert.match(malformed.detail, /exp/);
      }
      // SSE checks the same (an endless token would otherwise hold a stream open for ever).
      await expectProblem(
        await target.fetch(`/v1/channels/${key}/events?access_token=${forever}`),
        401,
        "unauthorized",
      );
      await expectProblem(await withToken(target, await target.token("admin"), path), 404, "not_found");
    },
  },
  {
    name: "auth: a scope claim that is not a space-separated string (an array, a number) is 401, never guessed at",
    async run(target) {
      const key = uniqueName("auth-scope-array");
      for (const scope of [["admin"], ["kv:read:*", "kv:write:*"], 7, { admin: true }, "admin\tkv:read:x"]) {
        const token = await target.token("", { claims: { scope } });
        const problem = await expectProblem(
          await withToken(target, token, `/v1/kv/${key}`),
          401,
          "unauthorized",
        );
        assert.match(problem.detail, /scope/);
      }
      // No scope claim at all is a valid token that may do nothing.
      const none = await target.token("", { claims: { scope: undefined } });
      await expectProblem(await withToken(target, none, `/v1/kv/${key}`), 403, "forbidden");
    },
  },
  {
    name: "auth: ?access_token= works (for EventSource); the Authorization header wins when both are present",
    async run(target) {
      const key = uniqueName("auth-query");
      const writer = await target.token(`kv:write:${key}`);
      await expectStatus(
        await target.fetch(`/v1/kv/${key}?access_token=${writer}`, textInit("PUT", "via query")),
        201,
      );
      const reader = await target.token(`kv:read:${key}`);
      assert.equal(
        await expectStatus(await target.fetch(`/v1/kv/${key}?access_token=${reader}`), 200),
        "via query",
      );
      await expectProblem(
        await target.fetch(`/v1/kv/${key}?access_token=${reader}`, { headers: bearer(writer) }),
        403,
        "forbidden",
      );
      await expectProblem(await target.fetch(`/v1/kv/${key}?access_token=garbage`), 401, "unauthorized");
    },
  },
  {
    name: "auth: scopes are per action; a wrong scope is 403 naming what was needed, and writes nothing",
    async run(target) {
      const key = uniqueName("scope-key");
      const channel = uniqueName("scope-ch");
      const problem = await expectProblem(
        await authed(target, `kv:read:${key}`, `/v1/kv/${key}`, textInit("PUT", "x")),
        403,
        "forbidden",
      );
      assert.equal(problem.required, `kv:write:${key}`);
      await expectProblem(await authed(target, `kv:write:${key}`, `/v1/kv/${key}`), 403, "forbidden");
      await expectProblem(
        await authed(target, `kv:read:${key}`, `/v1/kv/${key}`, { method: "DELETE" }),
        403,
        "forbidden",
      );
      await expectProblem(
        await authed(target, `subscribe:${channel}`, `/v1/channels/${channel}/messages`, jsonInit("POST", 1)),
        403,
        "forbidden",
      );
      await expectProblem(
        await authed(target, `publish:${channel}`, `/v1/channels/${channel}`),
        403,
        "forbidden",
      );
      await expectProblem(await authed(target, "", `/v1/kv/${key}`), 403, "forbidden");
      assert.equal(await target.redis.exists(key, `relay:{${channel}}:log`, `relay:{${channel}}:epoch`), 0);
    },
  },
  {
    name: "auth: scope globs: * matches any run, ? exactly one character, other characters literally; admin covers all",
    async run(target) {
      const base = uniqueName("glob");
      const allowed = async (scope: string, channel: string) => {
        const response = await authed(target, scope, `/v1/channels/${channel}/messages`, jsonInit("POST", 1));
        await response.arrayBuffer();
        assert.ok(response.status === 201 || response.status === 403, `unexpected ${response.status}`);
        return response.status === 201;
      };
      assert.equal(await allowed(`publish:${base}.*`, `${base}.eu`), true);
      assert.equal(await allowed(`publish:${base}.*`, `${base}.eu.west`), true);
      assert.equal(await allowed(`publish:${base}.*`, `${base}x`), false);
      assert.equal(await allowed(`publish:${base}.?`, `${base}.a`), true);
      assert.equal(await allowed(`publish:${base}.?`, `${base}.ab`), false);
      assert.equal(await allowed(`publish:*${base.slice(-4)}`, `x-${base}`), true);
      assert.equal(await allowed(`subscribe:* kv:write:*`, `${base}.no`), false);
      assert.equal(await allowed(`kv:read:* publish:${base}.a publish:${base}.b`, `${base}.b`), true);
      assert.equal(await allowed("admin", `${base}.admin`), true);
      const key = `${base}/k`;
      await expectStatus(
        await authed(target, "kv:write:*/k", `/v1/kv/${encodeURIComponent(key)}`, textInit("PUT", "v")),
        201,
      );
      await expectJson(await authed(target, "admin", "/v1/kv?prefix=x"), 200);
    },
  },
  {
    name: "errors: precedence is 401, 413, 415, 400, 403, then 404/409/412, and nothing is written on a rejection",
    async run(target) {
      const big = "x".repeat(1_048_577);
      const key = uniqueName("order-key");
      const none = "subscribe:nothing";
      const badKey = "/v1/kv/bad%20key";
      const badChannel = "/v1/channels/bad%0Aname/messages";
      await expectRejections(target, [
        [null, badKey, textInit("PUT", big, "image/png"), 401, "unauthorized"],
        [none, badKey, textInit("PUT", big, "image/png"), 413, "payload_too_large"],
        [none, badKey, textInit("PUT", "{", "image/png"), 415, "unsupported_media_type"],
        [none, badKey, jsonInit("PUT", "{"), 400, "invalid_json"],
        [none, badKey, jsonInit("PUT", "{}"), 400, "invalid_name"],
        [none, `/v1/kv/${key}?ttl=0`, jsonInit("PUT", "{}"), 400, "invalid_parameter"],
        [none, `/v1/kv/${key}`, jsonInit("PUT", "{}", { "if-match": "nope" }), 400, "invalid_header"],
        [none, `/v1/kv/${key}`, jsonInit("PUT", "{}", { "if-match": '"abc"' }), 403, "forbidden"],
        ["kv:read:nothing", `/v1/kv/${key}`, {}, 403, "forbidden"],
        [`kv:read:${key}`, `/v1/kv/${key}`, {}, 404, "not_found"],
        ["subscribe:x", badChannel, textInit("POST", big), 413, "payload_too_large"],
        ["subscribe:x", badChannel, textInit("POST", "x", "application/xml"), 415, "unsupported_media_type"],
        ["subscribe:x", badChannel, textInit("POST", "x"), 400, "invalid_name"],
        [
          "subscribe:x",
          "/v1/channels/ok/messages?event=reset",
          textInit("POST", "x"),
          400,
          "invalid_parameter",
        ],
      ]);
      assert.equal(await target.redis.exists(key, `relay:{${key}}:meta`, "relay:{ok}:log"), 0);
    },
  },
  {
    name: "errors: unknown routes are 404 problems; a known route with another method is 405 (test/scenarios/methods.ts)",
    async run(target) {
      await expectProblem(await target.fetch("/nope"), 404, "not_found");
      await expectProblem(await authed(target, "admin", "/v1/nope"), 404, "not_found");
      await expectProblem(await authed(target, "admin", "/v1/publish"), 405, "method_not_allowed");
    },
  },
];
