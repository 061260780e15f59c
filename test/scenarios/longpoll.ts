import assert from "node:assert/strict";
import { authed, expectJson, expectProblem, redisCalls } from "./assertions.ts";
import { type RelayTarget, type Scenario, uniqueName } from "./harness.ts";
import { publish } from "./sse.ts";
import { eventually } from "./sse-stream.ts";

/** History and long-poll on `GET /v1/channels/:channel/messages` (docs/api.md), in every runtime. */

interface Page {
  messages: { id: string; channel: string; event: string; data: unknown; time: number }[];
  cursor: string;
  gap: boolean;
}

async function page(
  target: RelayTarget,
  channel: string,
  query: string,
): Promise<{ body: Page; calls: number }> {
  const response = await authed(target, `subscribe:${channel}`, `/v1/channels/${channel}/messages${query}`);
  const calls = redisCalls(response);
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  return { body: await expectJson<Page>(response, 200), calls };
}

export const longPollScenarios: Scenario[] = [
  {
    name: "messages: without wait the latest `limit` come at once, oldest first; after= pages on; same cursors as SSE",
    async run(target) {
      const channel = uniqueName("lp-history");
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await publish(target, channel, i % 2 ? `text ${i}` : { i }));
      const latest = await page(target, channel, "?limit=2");
      assert.deepEqual(
        latest.body.messages.map((m) => m.id),
        ids.slice(3),
      );
      assert.equal(latest.body.cursor, ids[4]);
      assert.equal(latest.body.gap, false);
      assert.ok(
        latest.calls <= 2,
        `one round trip (two the first time the script is loaded), got ${latest.calls}`,
      );
      const after = await page(target, channel, `?after=${ids[0]}&limit=2`);
      assert.deepEqual(
        after.body.messages.map((m) => m.id),
        ids.slice(1, 3),
      );
      assert.equal(after.body.cursor, ids[2]);
      assert.deepEqual(after.body.messages[0]?.data, "text 1");
      const rest = await page(target, channel, `?after=${after.body.cursor}`);
      assert.deepEqual(
        rest.body.messages.map((m) => m.id),
        ids.slice(3),
      );
      const none = await page(target, channel, `?after=${ids[4]}`);
      assert.deepEqual(none.body, { messages: [], cursor: ids[4], gap: false });
      const empty = await page(target, uniqueName("lp-empty"), "");
      assert.deepEqual(empty.body.messages, []);
    },
  },
  {
    name: "messages: after= takes the compound cursor of a many-channel SSE stream (longer than one cursor's 400 characters)",
    async run(target) {
      const prefix = uniqueName(`lp-compound-${"x".repeat(60)}`);
      const channels = Array.from({ length: 8 }, (_, n) => `${prefix}.${n}`);
      const ids: string[] = [];
      for (const channel of channels) ids.push(await publish(target, channel, channel));
      const first = channels[0] as string;
      const next = await publish(target, first, "next");
      const compound = ids.join("~");
      assert.ok(compound.length > 400, `compound cursor of ${compound.length} characters`);
      const result = await page(target, first, `?after=${compound}`);
      assert.deepEqual(
        result.body.messages.map((m) => m.id),
        [next],
      );
    },
  },
  {
    name: "long-poll: a waiting request wakes up with the message published while it waits, in a few round trips",
    async run(target) {
      const channel = uniqueName("lp-wake");
      const cursor = await publish(target, channel, { i: 0 });
      const waiting = page(target, channel, `?after=${cursor}&wait=25`);
      // The request must be holding (subscribed) before the publish; publishing repeatedly until it answers
      // keeps the test independent of timing, and the answer must start with the first message after the cursor.
      const sent: string[] = [];
      let answered = false;
      void waiting.finally(() => {
        answered = true;
      });
      while (!answered && sent.length < 50) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (!answered) sent.push(await publish(target, channel, { i: sent.length + 1 }));
      }
      const { body, calls } = await waiting;
      assert.ok(body.messages.length >= 1, "woken with the new message(s)");
      assert.equal(body.messages[0]?.id, sent[0], "the first message after the cursor comes first");
      assert.deepEqual(
        body.messages.map((m) => m.id),
        sent.slice(0, body.messages.length),
      );
      assert.equal(body.cursor, body.messages.at(-1)?.id);
      assert.equal(body.gap, false);
      assert.ok(
        calls <= 5,
        `no polling: at most read, subscribe, re-read, read (+1 script load), got ${calls}`,
      );
    },
  },
  {
    name: "long-poll: with nothing new the wait ends with no messages and the same cursor",
    async run(target) {
      const channel = uniqueName("lp-timeout");
      const cursor = await publish(target, channel, { i: 0 });
      const { body, calls } = await page(target, channel, `?after=${cursor}&wait=1`);
      assert.deepEqual(body, { messages: [], cursor, gap: false });
      assert.ok(calls <= 4, `got ${calls} Redis calls`);
    },
  },
  {
    name: "long-poll: waiters on one channel each end at their own deadline, set in any order, whichever ends first",
    async run(target) {
      // On the hub the waiters' deadlines share one timer (src/relay/hub/deadlines.ts): a later, shorter wait
      // must rearm it, and a waiter whose request ended first must not take the others' deadlines with it.
      const channel = uniqueName("lp-deadlines");
      const cursor = await publish(target, channel, { i: 0 });
      const started = Date.now();
      const ended = (wait: number) =>
        page(target, channel, `?after=${cursor}&wait=${wait}`).then(({ body }) => ({
          body,
          ms: Date.now() - started,
        }));
      const three = ended(3);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const one = ended(1);
      const four = ended(4);
      const answers = [
        [1, await one],
        [3, await three],
        [4, await four],
      ] as const;
      for (const [wait, answer] of answers) {
        assert.deepEqual(answer.body, { messages: [], cursor, gap: false });
        assert.ok(
          answer.ms >= wait * 1000 - 50,
          `wait=${wait} answered after ${answer.ms} ms: before its wait`,
        );
        assert.ok(answer.ms < wait * 1000 + 5000, `wait=${wait} answered after ${answer.ms} ms`);
      }
      // Deadlines 1.2 s, 3 s and 4.2 s from the start: each answered near its own, not at another's.
      const [oneMs, threeMs, fourMs] = answers.map(([, answer]) => answer.ms) as [number, number, number];
      assert.ok(oneMs < threeMs - 1000, `wait=1 at ${oneMs} ms, wait=3 at ${threeMs} ms`);
      assert.ok(threeMs < fourMs - 600, `wait=3 at ${threeMs} ms, wait=4 at ${fourMs} ms`);
    },
  },
  {
    name: "long-poll: a cursor behind trimmed history answers at once with gap: true and the oldest retained messages",
    async run(target) {
      const channel = uniqueName("lp-gap");
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push(await publish(target, channel, { i }));
      await target.redis.exec(["XTRIM", `relay:{${channel}}:log`, "MAXLEN", "1"]);
      const { body } = await page(target, channel, `?after=${ids[0]}&wait=20`);
      assert.equal(body.gap, true);
      assert.deepEqual(
        body.messages.map((m) => m.id),
        [ids[3]],
      );
    },
  },
  {
    name: "messages: bad cursors, another channel's cursor, bad limit/wait and missing scope are rejected",
    async run(target) {
      const channel = uniqueName("lp-bad");
      const other = uniqueName("lp-other");
      const otherCursor = await publish(target, other, { i: 0 });
      const scope = `subscribe:${channel}`;
      for (const [query, code] of [
        ["?after=garbage", "invalid_cursor"],
        [`?after=${otherCursor}`, "invalid_cursor"],
        [`?after=${"A".repeat(5000)}`, "invalid_cursor"],
        ["?limit=0", "invalid_parameter"],
        ["?limit=100000", "invalid_parameter"],
        ["?wait=31", "invalid_parameter"],
        ["?wait=-1", "invalid_parameter"],
      ] as const) {
        await expectProblem(
          await authed(target, scope, `/v1/channels/${channel}/messages${query}`),
          400,
          code,
        );
      }
      await expectProblem(
        await authed(target, `subscribe:${other}`, `/v1/channels/${channel}/messages`),
        403,
        "forbidden",
      );
      await expectProblem(await target.fetch(`/v1/channels/${channel}/messages`), 401, "unauthorized");
      await expectProblem(await authed(target, scope, "/v1/channels/a%0D%0Ab/messages"), 400, "invalid_name");
    },
  },
];

/**
 * Needs a real connection the client can drop (a socket): in-process dispatch cannot signal a disconnect.
 */
export const longPollSocketScenarios: Scenario[] = [
  {
    name: "long-poll: a client that gives up while waiting releases the relay's live subscription",
    async run(target) {
      const channel = uniqueName("lp-abort");
      const cursor = await publish(target, channel, { i: 0 });
      const live = `relay:{${channel}}:live`;
      const numsub = async () =>
        Number(((await target.redis.exec(["PUBSUB", "NUMSUB", live])) as unknown[])[1]);
      const token = await target.token(`subscribe:${channel}`);
      const controller = new AbortController();
      const waitSeconds = 20;
      const waiting = target.fetch(`/v1/channels/${channel}/messages?after=${cursor}&wait=${waitSeconds}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      waiting.catch(() => {});
      await eventually(async () => (await numsub()) === 1, "the long-poll to subscribe");
      controller.abort();
      // Node and Deno see the disconnect at once. workerd notices a gone client only when it writes, and a
      // long-poll writes nothing until it answers: there the subscription lasts until the wait ends (bounded).
      const promptly = target.runtime !== "miniflare-socket" && target.runtime !== "workers";
      const within = promptly ? (waitSeconds - 5) * 1000 : (waitSeconds + 15) * 1000;
      await eventually(
        async () => (await numsub()) === 0,
        "the subscription to be released after the client left",
        within,
      );
    },
  },
];
