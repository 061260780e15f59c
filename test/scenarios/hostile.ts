import assert from "node:assert/strict";
import { authed, expectProblem, expectRejections, expectStatus, jsonInit, textInit } from "./assertions.ts";
import { type RelayTarget, type Scenario, uniqueName } from "./harness.ts";

/** Hostile input: every one is a clear 4xx problem and changes nothing in Redis. */

const ADMIN = "admin";
const INVALID_UTF8 = new Uint8Array([0x68, 0x69, 0xff, 0xfe, 0xc3, 0x28]);

/** Asserts that Redis holds no key of this test's unique marker. */
async function assertNothingWritten(target: RelayTarget, marker: string): Promise<void> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, page] = (await target.redis.scan(cursor, { match: `*${marker}*`, count: 1000 })) as [
      string | number,
      string[],
    ];
    keys.push(...page);
    cursor = String(next);
  } while (cursor !== "0");
  assert.deepEqual(keys, [], `nothing may be written for ${marker}`);
}

/**
 * A request whose body the server refuses before reading it all (413). Over a real socket the server may answer
 * and close while the client is still sending, and Node's fetch then reports the write error (EPIPE,
 * ECONNRESET) instead of the answer; such a try is repeated (up to 3), so the 413 itself is still required.
 */
async function answeredEarly(send: () => Promise<Response>): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      if (attempt >= 3 || (cause !== "EPIPE" && cause !== "ECONNRESET")) throw error;
    }
  }
}

export const hostileScenarios: Scenario[] = [
  {
    name: "hostile: keys with CR/LF, control characters, whitespace, relay: prefix, bad escapes or over 512 bytes are 400",
    async run(target) {
      const marker = uniqueName("hk");
      const bad = [
        `${marker}%0D%0Aset-cookie:x`,
        `${marker}%0A`,
        `${marker}%00`,
        `${marker}%01`,
        `${marker}%7F`,
        `${marker}%C2%85`,
        `${marker}%20x`,
        `${marker}%09`,
        `${marker}%E3%80%80`,
        `relay:${marker}`,
        `relay%3A${marker}`,
        `${marker}%E0%A4%A`,
        `${marker}%FF`,
        `${marker}%ED%A0%80`,
        `${marker}${"k".repeat(513 - marker.length)}`,
        `${marker}${"é".repeat(256)}`,
      ];
      for (const path of bad) {
        await expectProblem(
          await authed(target, ADMIN, `/v1/kv/${path}`, textInit("PUT", "x")),
          400,
          "invalid_name",
        );
        await expectProblem(await authed(target, ADMIN, `/v1/kv/${path}`), 400, "invalid_name");
        await expectProblem(
          await authed(target, ADMIN, `/v1/kv/${path}`, { method: "DELETE" }),
          400,
          "invalid_name",
        );
      }
      await assertNothingWritten(target, marker);
      const longest = `${marker}${"k".repeat(512 - marker.length)}`;
      await expectStatus(await authed(target, ADMIN, `/v1/kv/${longest}`, textInit("PUT", "fits")), 201);
      await target.redis.del(longest, `relay:{${longest}}:meta`);
    },
  },
  {
    name: "hostile: channels with CR/LF, spaces, glob characters, Unicode or over 200 characters are 400",
    async run(target) {
      const marker = uniqueName("hc");
      for (const channel of [
        `${marker}%0D%0A`,
        `${marker}%20`,
        `${marker}*`,
        `${marker}%3F`,
        `${marker}%5B`,
        `${marker}%C3%A9`,
        `${marker}${"c".repeat(201 - marker.length)}`,
        `${marker}%`,
        `${marker}%2F`,
      ]) {
        await expectProblem(
          await authed(target, ADMIN, `/v1/channels/${channel}/messages`, jsonInit("POST", 1)),
          400,
          "invalid_name",
        );
        await expectProblem(await authed(target, ADMIN, `/v1/channels/${channel}`), 400, "invalid_name");
        await expectProblem(
          await authed(target, ADMIN, `/v1/channels/${channel}`, { method: "DELETE" }),
          400,
          "invalid_name",
        );
      }
      await assertNothingWritten(target, marker);
      const longest = `${marker}${"c".repeat(200 - marker.length)}`;
      await expectStatus(
        await authed(target, ADMIN, `/v1/channels/${longest}/messages`, jsonInit("POST", 1)),
        201,
      );
    },
  },
  {
    name: "hostile: event names with CR/LF, `reset`, spaces or over 64 characters, and bad Idempotency-Keys are 400",
    async run(target) {
      const channel = uniqueName("he");
      for (const event of ["a%0Ab", "a%0D", "reset", "a%20b", "e".repeat(65), "", "%C3%A9", "a,b"]) {
        await expectProblem(
          await authed(target, ADMIN, `/v1/channels/${channel}/messages?event=${event}`, jsonInit("POST", 1)),
          400,
          "invalid_parameter",
        );
      }
      for (const key of ["has space", "k".repeat(201), "é"]) {
        await expectProblem(
          await authed(
            target,
            ADMIN,
            `/v1/channels/${channel}/messages`,
            jsonInit("POST", 1, { "idempotency-key": key }),
          ),
          400,
          "invalid_header",
        );
      }
      await assertNothingWritten(target, channel);
      await expectStatus(
        await authed(
          target,
          ADMIN,
          `/v1/channels/${channel}/messages?event=${"e".repeat(64)}`,
          jsonInit("POST", 1, { "idempotency-key": "k".repeat(200) }),
        ),
        201,
      );
    },
  },
  {
    name: "hostile: invalid UTF-8 bodies are 400 invalid_utf8 for KV and publish",
    async run(target) {
      const marker = uniqueName("hu");
      await expectRejections(target, [
        [ADMIN, `/v1/kv/${marker}`, textInit("PUT", INVALID_UTF8), 400, "invalid_utf8"],
        [ADMIN, `/v1/kv/${marker}`, textInit("PUT", INVALID_UTF8, "application/json"), 400, "invalid_utf8"],
        [ADMIN, `/v1/channels/${marker}/messages`, textInit("POST", INVALID_UTF8), 400, "invalid_utf8"],
        [ADMIN, "/v1/publish", textInit("POST", INVALID_UTF8, "application/json"), 400, "invalid_utf8"],
        [ADMIN, `/v1/kv/${marker}`, textInit("PUT", new Uint8Array([0xed, 0xa0, 0x80])), 400, "invalid_utf8"],
      ]);
      await assertNothingWritten(target, marker);
    },
  },
  {
    name: "hostile: wrong content types are 415 (binary, XML, form, none, non-UTF-8 charset); the batch takes JSON only",
    async run(target) {
      const marker = uniqueName("ht");
      const bodies: [string | undefined, string][] = [
        ["application/octet-stream", "x"],
        ["image/png", "x"],
        ["application/xml", "<a/>"],
        ["application/x-www-form-urlencoded", "a=b"],
        ["multipart/form-data; boundary=x", "--x--"],
        ["text/plain; charset=iso-8859-1", "x"],
        ["application/json; charset=utf-16", "1"],
        ["text", "x"],
        [undefined, "x"],
      ];
      for (const [type, body] of bodies) {
        const init: RequestInit = {
          method: "PUT",
          body: new TextEncoder().encode(body),
          headers: type ? { "content-type": type } : {},
        };
        await expectProblem(
          await authed(target, ADMIN, `/v1/kv/${marker}`, init),
          415,
          "unsupported_media_type",
        );
        await expectProblem(
          await authed(target, ADMIN, `/v1/channels/${marker}/messages`, { ...init, method: "POST" }),
          415,
          "unsupported_media_type",
        );
      }
      await expectProblem(
        await authed(
          target,
          ADMIN,
          "/v1/publish",
          textInit("POST", `{"messages":[{"channel":"${marker}","data":1}]}`),
        ),
        415,
        "unsupported_media_type",
      );
      await assertNothingWritten(target, marker);
    },
  },
  {
    name: "hostile: oversize bodies are 413 whether Content-Length says so or a stream runs over",
    async run(target) {
      const marker = uniqueName("hs");
      const big = new Uint8Array(1_048_577).fill(0x61);
      for (const [path, init] of [
        [`/v1/kv/${marker}`, () => textInit("PUT", big)],
        [`/v1/channels/${marker}/messages`, () => textInit("POST", big)],
        ["/v1/publish", () => textInit("POST", big, "application/json")],
        [
          `/v1/kv/${marker}`,
          () =>
            ({
              method: "PUT",
              headers: { "content-type": "text/plain" },
              body: new ReadableStream<Uint8Array>({
                start(controller) {
                  for (let i = 0; i < 20; i++) controller.enqueue(new Uint8Array(64 * 1024).fill(0x62));
                  controller.close();
                },
              }),
              duplex: "half",
            }) as RequestInit,
        ],
      ] as const) {
        await expectProblem(
          await answeredEarly(() => authed(target, ADMIN, path, init())),
          413,
          "payload_too_large",
        );
      }
      await assertNothingWritten(target, marker);
      const exact = new Uint8Array(1_048_576).fill(0x63);
      await expectStatus(await authed(target, ADMIN, `/v1/kv/${marker}`, textInit("PUT", exact)), 201);
      assert.equal(await target.redis.strlen(marker), 1_048_576);
      await target.redis.del(marker, `relay:{${marker}}:meta`);
    },
  },
  {
    name: "hostile: malformed JSON and wrong JSON shapes are 400 and write nothing",
    async run(target) {
      const marker = uniqueName("hj");
      for (const body of ["", "{", "{'a':1}", "[1,]", "NaN", "undefined", '{"a":1}x']) {
        await expectProblem(
          await authed(target, ADMIN, `/v1/kv/${marker}`, jsonInit("PUT", body)),
          400,
          "invalid_json",
        );
        await expectProblem(
          await authed(target, ADMIN, `/v1/channels/${marker}/messages`, jsonInit("POST", body)),
          400,
          "invalid_json",
        );
      }
      for (const body of [
        {},
        { messages: "x" },
        { messages: [{ channel: 1, data: 1 }] },
        { messages: [{ channel: marker, data: 1, event: 5 }] },
        null,
        '"string"',
      ]) {
        await expectProblem(
          await authed(target, ADMIN, "/v1/publish", jsonInit("POST", body)),
          400,
          "invalid_body",
        );
      }
      await assertNothingWritten(target, marker);
    },
  },
  {
    name: "hostile: bad query parameters (ttl, limit, cursor) are 400 invalid_parameter",
    async run(target) {
      const marker = uniqueName("hq");
      for (const ttl of ["0", "-1", "abc", "1e3", "1.5", "99999999999", "", "315360001"]) {
        await expectProblem(
          await authed(target, ADMIN, `/v1/kv/${marker}?ttl=${ttl}`, textInit("PUT", "x")),
          400,
          "invalid_parameter",
        );
      }
      for (const query of [
        "limit=0",
        "limit=1001",
        "limit=x",
        "cursor=abc",
        "cursor=-1",
        `cursor=${"9".repeat(30)}`,
        `prefix=${"p".repeat(513)}`,
      ]) {
        await expectProblem(await authed(target, ADMIN, `/v1/kv?${query}`), 400, "invalid_parameter");
      }
      await assertNothingWritten(target, marker);
    },
  },
  {
    name: "hostile: malformed If-Match / If-None-Match headers are 400 invalid_header",
    async run(target) {
      const marker = uniqueName("hh");
      for (const header of ["abc", '"unterminated', 'W/"x", junk', "**", `"${"a".repeat(5000)}"`]) {
        await expectProblem(
          await authed(
            target,
            ADMIN,
            `/v1/kv/${marker}`,
            textInit("PUT", "x", "text/plain", { "if-match": header }),
          ),
          400,
          "invalid_header",
        );
        await expectProblem(
          await authed(target, ADMIN, `/v1/kv/${marker}`, { headers: { "if-none-match": header } }),
          400,
          "invalid_header",
        );
      }
      await assertNothingWritten(target, marker);
    },
  },
  {
    name: "hostile: huge, malformed or foreign cursors on the history route are 400, never a crash",
    async run(target) {
      const channel = uniqueName("hcur");
      const other = btoa("other-channel").replace(/=+$/, "");
      await expectRejections(target, [
        [ADMIN, `/v1/channels/${channel}/messages?after=${"x".repeat(10_000)}`, {}, 400, "invalid_cursor"],
        [ADMIN, `/v1/channels/${channel}/messages?after=garbage`, {}, 400, "invalid_cursor"],
        [ADMIN, `/v1/channels/${channel}/messages?after=YQ.e.${"9".repeat(30)}-0`, {}, 400, "invalid_cursor"],
        [ADMIN, `/v1/channels/${channel}/messages?after=YQ.e%0A.1-0`, {}, 400, "invalid_cursor"],
        [ADMIN, `/v1/channels/${channel}/messages?after=${other}.e.1-0`, {}, 400, "invalid_cursor"],
      ]);
      await assertNothingWritten(target, channel);
    },
  },
];
