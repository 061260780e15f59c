import assert from "node:assert/strict";
import { authed, expectJson, expectProblem, expectRejections, jsonInit, textInit } from "./assertions.ts";
import { type RelayTarget, type Scenario, uniqueName } from "./harness.ts";
import { EVENT_TIMEOUT_MS, openSse, type SseStream } from "./sse-stream.ts";

/**
 * The reserved `relay:` namespace (docs/api.md "Names", docs/sse.md "Raw mode"): no name, pattern or key a
 * client sends may reach a relay-owned Redis key or pub/sub channel, whatever its scopes.
 */

interface RawFrame {
  channel: string;
  pattern?: string;
  data: string;
}

async function rawStream(target: RelayTarget, scope: string, pattern: string): Promise<SseStream> {
  const token = await target.token(scope);
  return openSse(target, `/v1/events?pattern=${encodeURIComponent(pattern)}&raw=1`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

/**
 * Reads raw frames until the marker arrives and returns everything seen before it. Other scenarios may
 * publish concurrently, so foreign frames are expected; what matters is what the caller asserts about them.
 */
async function framesUntil(stream: SseStream, channel: string, data: string): Promise<RawFrame[]> {
  const seen: RawFrame[] = [];
  const deadline = Date.now() + EVENT_TIMEOUT_MS;
  for (;;) {
    const frame = JSON.parse((await stream.next(Math.max(1, deadline - Date.now()))).data) as RawFrame;
    if (frame.channel === channel && frame.data === data) return seen;
    seen.push(frame);
  }
}

export const reservedScenarios: Scenario[] = [
  {
    name: "reserved: a raw pattern (r*, ?elay:*, an admin's *) never delivers another channel's messages through relay:{<ch>}:live",
    async run(target) {
      const secret = uniqueName("secret");
      const payload = `top-secret-${crypto.randomUUID()}`;
      const marker = uniqueName("r-marker");
      const lookalike = `xelay:${uniqueName("marker")}`;
      // The scope covers the pattern, but not `secret`: subscribing to it directly is refused.
      await expectProblem(
        await authed(target, "subscribe:r*", `/v1/events?channel=${secret}&raw=1`),
        403,
        "forbidden",
      );
      const cases: Array<[scope: string, pattern: string, markerChannel: string]> = [
        ["subscribe:r*", "r*", marker],
        ["subscribe:?elay:*", "?elay:*", lookalike],
        ["admin", "*", marker],
      ];
      const streams = await Promise.all(cases.map(([scope, pattern]) => rawStream(target, scope, pattern)));
      try {
        await expectJson(
          await authed(target, "admin", `/v1/channels/${secret}/messages`, textInit("POST", payload)),
          201,
        );
        // Published after the secret: once a stream has the marker, it would already have had the secret.
        assert.ok(Number(await target.redis.publish(marker, "after")) >= 1, "the raw streams listen");
        assert.ok(Number(await target.redis.publish(lookalike, "after")) >= 1, "the raw stream listens");
        for (const [index, [scope, pattern, markerChannel]] of cases.entries()) {
          const before = await framesUntil(streams[index] as SseStream, markerChannel, "after");
          // Only the raw mirror on `secret` itself may carry the payload (the admin's `*` matches it).
          const leaked = before.filter(
            (frame) =>
              frame.channel.startsWith("relay:") ||
              (frame.data.includes(payload) && frame.channel !== secret),
          );
          assert.deepEqual(leaked, [], `${scope} with pattern=${pattern}&raw=1 got relay-owned channels`);
          if (scope === "admin") {
            assert.ok(
              before.some((frame) => frame.channel === secret && frame.data === payload),
              "the admin's raw * gets the raw mirror of the channel (the stream was live when it was published)",
            );
          }
        }
      } finally {
        await Promise.all(streams.map((stream) => stream.close()));
      }
    },
  },
  {
    name: "reserved: a forged resume cursor naming a channel the pattern does not cover replays nothing of it",
    async run(target) {
      const secret = uniqueName("secret");
      const marker = uniqueName("r-resume");
      const publishAdmin = async (channel: string, data: string) =>
        (
          await expectJson<{ id: string }>(
            await authed(target, "admin", `/v1/channels/${channel}/messages`, textInit("POST", data)),
            201,
          )
        ).id;
      const before = await publishAdmin(marker, "before");
      const secretId = await publishAdmin(secret, "top-secret");
      const after = await publishAdmin(marker, "after");
      // The cursor format is documented (docs/sse.md): rewind `secret` to its start and hope for a replay.
      const [encoded, epoch] = secretId.split(".");
      const forged = `${encoded}.${epoch}.0-0~${before}`;
      const token = await target.token("subscribe:r*");
      const stream = await openSse(target, "/v1/events?pattern=r*", {
        headers: { authorization: `Bearer ${token}`, "last-event-id": forged },
      });
      try {
        const seen: string[] = [];
        for (;;) {
          const event = await stream.next();
          if (event.data === "") continue; // the id:-only position frame
          const message = JSON.parse(event.data) as { id: string; channel: string };
          seen.push(message.channel);
          if (message.id === after) break;
        }
        assert.ok(!seen.includes(secret), `the pattern stream replayed ${secret}: ${seen.join(", ")}`);
      } finally {
        await stream.close();
      }
    },
  },
  {
    name: "reserved: channels and patterns under relay: are 400 on publish, batch, history, long-poll, info, DELETE and SSE",
    async run(target) {
      const marker = uniqueName("rsv");
      const reserved = `relay:${marker}`;
      const live = encodeURIComponent(`relay:{${marker}}:live`);
      const publishAll = "publish:* subscribe:*";
      const batch = (channel: string) => jsonInit("POST", { messages: [{ channel, data: 1 }] });
      await expectRejections(target, [
        [publishAll, `/v1/channels/${reserved}/messages`, textInit("POST", "x"), 400, "invalid_name"],
        [publishAll, `/v1/channels/${live}/messages`, textInit("POST", "x"), 400, "invalid_name"],
        [
          publishAll,
          `/v1/channels/${encodeURIComponent(reserved)}/messages`,
          textInit("POST", "x"),
          400,
          "invalid_name",
        ],
        [publishAll, "/v1/publish", batch(reserved), 400, "invalid_body"],
        ["admin", "/v1/publish", batch(`relay:{${marker}}:live`), 400, "invalid_body"],
        [publishAll, `/v1/channels/${reserved}/messages`, {}, 400, "invalid_name"],
        [publishAll, `/v1/channels/${reserved}/messages?wait=1`, {}, 400, "invalid_name"],
        [publishAll, `/v1/channels/${reserved}`, {}, 400, "invalid_name"],
        ["admin", `/v1/channels/${reserved}`, { method: "DELETE" }, 400, "invalid_name"],
        [publishAll, `/v1/channels/${reserved}/events`, {}, 400, "invalid_name"],
        [publishAll, `/v1/events?channel=${reserved}`, {}, 400, "invalid_name"],
        [publishAll, `/v1/events?channel=${reserved}&raw=1`, {}, 400, "invalid_name"],
        ["subscribe:relay:*", `/v1/events?channel=${live}&raw=1`, {}, 400, "invalid_name"],
        ["subscribe:relay:*", "/v1/events?pattern=relay:*&raw=1", {}, 400, "invalid_name"],
        ["subscribe:relay:*", "/v1/events?pattern=relay:*", {}, 400, "invalid_name"],
        [
          "admin",
          `/v1/events?pattern=${encodeURIComponent(`relay:{${marker}}*`)}&raw=1`,
          {},
          400,
          "invalid_name",
        ],
      ]);
      assert.equal(
        await target.redis.exists(
          `relay:{${reserved}}:log`,
          `relay:{${reserved}}:epoch`,
          `relay:{relay:{${marker}}:live}:log`,
        ),
        0,
        "nothing was written",
      );
    },
  },
  {
    name: "reserved: KV keys under relay: (also percent-encoded) are 400, and listing never shows relay-owned keys",
    async run(target) {
      const channel = uniqueName("rsv-kv");
      await expectJson(
        await authed(target, "admin", `/v1/channels/${channel}/messages`, jsonInit("POST", 1)),
        201,
      );
      const epochKey = `relay:{${channel}}:epoch`;
      const epoch = String(await target.redis.get(epochKey));
      for (const key of [epochKey, encodeURIComponent(epochKey), `%72elay:{${channel}}:epoch`]) {
        await expectRejections(target, [
          ["admin", `/v1/kv/${key}`, {}, 400, "invalid_name"],
          ["admin", `/v1/kv/${key}`, textInit("PUT", "forged"), 400, "invalid_name"],
          ["admin", `/v1/kv/${key}`, { method: "DELETE" }, 400, "invalid_name"],
        ]);
      }
      assert.equal(String(await target.redis.get(epochKey)), epoch, "the channel's epoch is untouched");
      for (const prefix of ["relay:", `relay:{${channel}`, "r"]) {
        let cursor = "0";
        do {
          const page = await expectJson<{ keys: string[]; cursor: string }>(
            await authed(
              target,
              "admin",
              `/v1/kv?prefix=${encodeURIComponent(prefix)}&limit=1000&cursor=${cursor}`,
            ),
            200,
          );
          assert.deepEqual(
            page.keys.filter((key) => key.startsWith("relay:")),
            [],
            `prefix=${prefix} lists no relay-owned key`,
          );
          cursor = page.cursor;
        } while (cursor !== "0");
      }
    },
  },
  {
    name: "reserved: an idempotency key with { or } is 400, so no KV meta key relay:{<k>}:meta can be a channel's idempotency record",
    async run(target) {
      const channel = uniqueName("rsv-idem");
      // KV key `<ch>}:idem:a` has the meta key `relay:{<ch>}:idem:a}:meta`: the idempotency record of `<ch>` under
      // the key `a}:meta`. A KV writer could delete that record (a retry would then publish twice) or clobber it.
      const header = { "idempotency-key": "a}:meta" };
      await expectRejections(target, [
        [
          `publish:${channel}`,
          `/v1/channels/${channel}/messages`,
          textInit("POST", "x", "text/plain", header),
          400,
          "invalid_header",
        ],
        [
          `publish:${channel}`,
          `/v1/channels/${channel}/messages`,
          textInit("POST", "x", "text/plain", { "idempotency-key": "{a" }),
          400,
          "invalid_header",
        ],
        [
          `publish:${channel}`,
          "/v1/publish",
          jsonInit("POST", { messages: [{ channel, data: 1, idempotencyKey: "a}:meta" }] }),
          400,
          "invalid_body",
        ],
      ]);
      assert.equal(await target.redis.exists(`relay:{${channel}}:log`, `relay:{${channel}}:idem:a}:meta`), 0);
      // Keys without braces still work.
      await expectJson(
        await authed(
          target,
          `publish:${channel}`,
          `/v1/channels/${channel}/messages`,
          textInit("POST", "x", "text/plain", { "idempotency-key": "a:meta|ok" }),
        ),
        201,
      );
    },
  },
];
