import assert from "node:assert/strict";
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
import { eventually, openSse, type SseEvent, type SseStream } from "./sse-stream.ts";

/** SSE delivery (docs/sse.md) against a real relay, proxy and redis-server, in every runtime. */

interface MessageBody {
  id: string;
  channel: string;
  event: string;
  data: unknown;
  time: number;
}
interface ResetBody {
  channel: string;
  reason: string;
  oldest: string | null;
}

export async function publish(
  target: RelayTarget,
  channel: string,
  data: unknown,
  query = "",
): Promise<string> {
  // A string goes out as text/plain (stored as text), anything else as JSON.
  const init = typeof data === "string" ? textInit("POST", data) : jsonInit("POST", data);
  const response = await authed(
    target,
    `publish:${channel}`,
    `/v1/channels/${channel}/messages${query}`,
    init,
  );
  return (await expectJson<{ id: string }>(response, 201)).id;
}

/** One batch publish (one round trip) of `data` to each channel; returns the ids in channel order. */
async function publishToEach(
  target: RelayTarget,
  channels: string[],
  data: (channel: string) => unknown,
): Promise<string[]> {
  // On Redis Cluster a batch over several channels is refused (cross_slot, docs/api.md): publish one by one.
  if (target.cluster) {
    const ids: string[] = [];
    for (const channel of channels) {
      const response = await authed(
        target,
        "publish:*",
        `/v1/channels/${channel}/messages`,
        jsonInit("POST", data(channel)),
      );
      ids.push((await expectJson<{ id: string }>(response, 201)).id);
    }
    return ids;
  }
  const body = { messages: channels.map((channel) => ({ channel, data: data(channel) })) };
  const response = await authed(target, "publish:*", "/v1/publish", jsonInit("POST", body));
  return (await expectJson<{ messages: { id: string }[] }>(response, 201)).messages.map((m) => m.id);
}

/**
 * How many subscribers get a classic PUBLISH of `payload` on `channel` (it is published). On Redis Cluster a
 * PUBLISH answers only for the node that ran it, so there the count is PUBSUB NUMSUB, which the proxy sums over
 * every node (docs/proxy.md, "Redis Cluster"), and the message is published after counting.
 */
async function subscribersOf(target: RelayTarget, channel: string, payload: string): Promise<number> {
  if (!target.cluster) return Number(await target.redis.publish(channel, payload));
  const count = await pubsubCount(target, "PUBSUB", "NUMSUB", channel);
  await target.redis.publish(channel, payload);
  return count;
}

/**
 * Whether a pattern subscription matches `probe`: a PUBLISH's receiver count; on Redis Cluster (node-local
 * counts) the cluster-wide PUBSUB NUMPAT, as each test file there has its own cluster and one stream at a time.
 */
async function patternMatches(target: RelayTarget, probe: string): Promise<number> {
  if (!target.cluster) return Number(await target.redis.publish(probe, "{}"));
  return pubsubCount(target, "PUBSUB", "NUMPAT");
}

async function streamOf(
  target: RelayTarget,
  scope: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<SseStream> {
  const token = await target.token(scope);
  return openSse(target, path, { headers: { ...headers, authorization: `Bearer ${token}` } });
}

const messageOf = (event: SseEvent): MessageBody => JSON.parse(event.data) as MessageBody;
const resetOf = (event: SseEvent): ResetBody => {
  assert.equal(
    event.event,
    "reset",
    `expected a reset frame, got ${event.event ?? "message"}: ${event.data}`,
  );
  return JSON.parse(event.data) as ResetBody;
};
const idsOf = (events: SseEvent[]) => events.map((event) => messageOf(event).id);

/** Publishes a sentinel and asserts it is the very next event: nothing (no duplicate, no stray) came before it. */
async function expectNothingBut(target: RelayTarget, stream: SseStream, channel: string): Promise<void> {
  const sentinel = await publish(target, channel, { sentinel: true });
  const next = await stream.next();
  assert.equal(messageOf(next).id, sentinel, `expected only the sentinel next, got ${next.data}`);
}

/** History after a cursor, from the relay (the ground truth SSE must match). */
async function historyIds(target: RelayTarget, channel: string, after: string): Promise<string[]> {
  const response = await authed(
    target,
    `subscribe:${channel}`,
    `/v1/channels/${channel}/messages?limit=1000&after=${after}`,
  );
  const body = await expectJson<{ messages: MessageBody[]; gap: boolean }>(response, 200);
  assert.equal(body.gap, false);
  return body.messages.map((m) => m.id);
}

const pubsubCount = async (target: RelayTarget, ...command: string[]): Promise<number> => {
  const reply = (await target.redis.exec(command as [string, ...string[]])) as unknown;
  if (Array.isArray(reply)) return Number(reply[1]);
  return Number(reply);
};

export const sseScenarios: Scenario[] = [
  {
    name: "sse: a message published once the headers are in arrives with id = its cursor; event: only for custom types",
    async run(target) {
      const channel = uniqueName("sse-live");
      const token = await target.token(`subscribe:${channel}`);
      // access_token in the query is what EventSource uses.
      const stream = await openSse(target, `/v1/channels/${channel}/events?access_token=${token}`);
      try {
        const headers = stream.response.headers;
        assert.equal(headers.get("cache-control"), "no-cache, no-transform");
        assert.equal(headers.get("x-accel-buffering"), "no");
        assert.equal(headers.get("access-control-allow-origin"), "*", "a page on another origin may read it");
        const first = await publish(target, channel, { n: 1, text: "line one\nline two" });
        const second = await publish(target, channel, "plain text", "?event=note");
        const [a, b] = (await stream.take(2)) as [SseEvent, SseEvent];
        assert.equal(a.id, first, "one-channel streams use the message's own cursor as id:");
        assert.equal(a.event, undefined, "`event:` is omitted for type message, so onmessage sees it");
        const message = messageOf(a);
        assert.deepEqual(
          { ...message, time: 0 },
          { id: first, channel, event: "message", data: { n: 1, text: "line one\nline two" }, time: 0 },
        );
        assert.equal(message.time, Number(cursorParts(first).streamId.split("-")[0]));
        assert.equal(b.id, second);
        assert.equal(b.event, "note");
        assert.equal(messageOf(b).data, "plain text");
      } finally {
        await stream.close();
      }
    },
  },
  {
    name: "sse: a client that leaves before any message resumes from where it connected (id:-only frame, and at rotation)",
    async run(target) {
      const prefix = uniqueName("sse-idle");
      for (const path of [
        `/v1/channels/${prefix}.one/events`,
        `/v1/events?channel=${prefix}.a&channel=${prefix}.b`,
      ]) {
        const channel = path.includes(".one") ? `${prefix}.one` : `${prefix}.b`;
        const first = await streamOf(target, `subscribe:${prefix}.*`, path);
        try {
          await eventually(async () => first.lastEventId !== undefined, "the stream to state its position");
        } finally {
          await first.close();
        }
        assert.equal(first.pending().length, 0, "the position frame fires no event");
        const missed = await publish(target, channel, { missed: true });
        const second = await streamOf(target, `subscribe:${prefix}.*`, path, {
          "last-event-id": first.lastEventId as string,
        });
        try {
          assert.equal(
            messageOf(await second.next()).id,
            missed,
            "published between the two connections, not lost",
          );
        } finally {
          await second.close();
        }
      }
    },
  },
  {
    name: "sse: resume replays exactly the missed messages; Last-Event-ID wins over ?lastEventId=",
    async run(target) {
      const channel = uniqueName("sse-resume");
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await publish(target, channel, { i }));
      const stream = await streamOf(
        target,
        `subscribe:${channel}`,
        `/v1/channels/${channel}/events?lastEventId=${ids[3]}`,
        {
          "last-event-id": ids[1] as string,
        },
      );
      try {
        assert.deepEqual(
          idsOf(await stream.take(3)),
          ids.slice(2),
          "replay starts after the header's cursor",
        );
        const live = await publish(target, channel, { i: 5 });
        assert.equal(messageOf(await stream.next()).id, live);
        await expectNothingBut(target, stream, channel);
      } finally {
        await stream.close();
      }
    },
  },
  {
    name: "sse: hand-off under concurrent publishing: no gap, no duplicate, order kept",
    async run(target) {
      const channel = uniqueName("sse-handoff");
      const cursor = await publish(target, channel, { i: -1 });
      let publishing = true;
      const published: string[] = [];
      const publisher = (async () => {
        for (let i = 0; publishing || i < 10; i++) published.push(await publish(target, channel, { i }));
      })();
      // Connect while messages keep coming: some land before the subscribe, some between it and the replay.
      await eventually(async () => published.length >= 3, "the publisher to start");
      const stream = await streamOf(target, `subscribe:${channel}`, `/v1/channels/${channel}/events`, {
        "last-event-id": cursor,
      });
      try {
        await eventually(async () => published.length >= 25, "more messages during the stream");
        publishing = false;
        await publisher;
        const expected = await historyIds(target, channel, cursor);
        assert.deepEqual(expected, published, "history holds what was published, in order");
        const received = idsOf(await stream.take(expected.length));
        assert.deepEqual(
          received,
          expected,
          "the stream delivers history after the cursor, then live, exactly once",
        );
        await expectNothingBut(target, stream, channel);
      } finally {
        publishing = false;
        await publisher;
        await stream.close();
      }
    },
  },
  {
    name: "sse: multi-channel hand-off under concurrent publishing: per channel no gap, no duplicate, order kept",
    async run(target) {
      const prefix = uniqueName("sse-mhandoff");
      const channels = [`${prefix}.a`, `${prefix}.b`, `${prefix}.c`];
      const query = channels.map((channel) => `channel=${channel}`).join("&");
      const scope = `subscribe:${prefix}.*`;
      const first = await streamOf(target, scope, `/v1/events?${query}`);
      const start = await publishToEach(target, channels, () => ({ start: true }));
      try {
        await first.take(3);
      } finally {
        await first.close();
      }
      const cursor = first.lastEventId as string;
      let publishing = true;
      const published = new Map<string, string[]>(channels.map((channel) => [channel, []]));
      let count = 0;
      const publisher = (async () => {
        for (let i = 0; publishing || i < 15; i++) {
          const channel = channels[i % channels.length] as string;
          published.get(channel)?.push(await publish(target, channel, { i }));
          count += 1;
        }
      })();
      await eventually(async () => count >= 4, "the publisher to start");
      const stream = await streamOf(target, scope, `/v1/events?${query}`, { "last-event-id": cursor });
      try {
        await eventually(async () => count >= 12, "more messages during the stream");
        publishing = false;
        await publisher;
        const received = idsOf(await stream.take(count)).map((id) => ({
          id,
          channel: cursorParts(id).channel,
        }));
        for (const [index, channel] of channels.entries()) {
          const expected = await historyIds(target, channel, start[index] as string);
          assert.deepEqual(expected, published.get(channel));
          const got = received.filter((message) => message.channel === channel).map((message) => message.id);
          assert.deepEqual(
            got,
            expected,
            `channel ${channel}: exactly the messages after the cursor, in order`,
          );
        }
        await expectNothingBut(target, stream, channels[2] as string);
      } finally {
        publishing = false;
        await publisher;
        await stream.close();
      }
    },
  },
  {
    name: "sse: a cursor behind trimmed history gets event: reset (trimmed, oldest) with an id, then the replay from oldest",
    async run(target) {
      const channel = uniqueName("sse-trim");
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await publish(target, channel, { i }));
      await target.redis.exec(["XTRIM", `relay:{${channel}}:log`, "MAXLEN", "2"]);
      const stream = await streamOf(target, `subscribe:${channel}`, `/v1/channels/${channel}/events`, {
        "last-event-id": ids[0] as string,
      });
      let resetId: string | undefined;
      try {
        const reset = await stream.next();
        assert.deepEqual(resetOf(reset), { channel, reason: "trimmed", oldest: ids[3] });
        assert.ok(reset.id, "the reset frame carries an id, so a reconnect does not reset again");
        resetId = reset.id;
        assert.deepEqual(idsOf(await stream.take(2)), ids.slice(3));
      } finally {
        await stream.close();
      }
      const again = await streamOf(target, `subscribe:${channel}`, `/v1/channels/${channel}/events`, {
        "last-event-id": resetId,
      });
      try {
        assert.deepEqual(
          idsOf(await again.take(2)),
          ids.slice(3),
          "resuming from the reset's id replays from oldest, no second reset",
        );
      } finally {
        await again.close();
      }
    },
  },
  {
    name: "sse: a lost epoch (log and epoch deleted behind the relay's back) gets event: reset (epoch)",
    async run(target) {
      const channel = uniqueName("sse-epoch");
      const before = await publish(target, channel, { i: 0 });
      await target.redis.del(`relay:{${channel}}:log`, `relay:{${channel}}:epoch`);
      const after = await publish(target, channel, { i: 1 });
      assert.notEqual(
        cursorParts(after).epoch,
        cursorParts(before).epoch,
        "the next publish starts a new epoch",
      );
      const stream = await streamOf(
        target,
        `subscribe:${channel}`,
        `/v1/channels/${channel}/events?lastEventId=${before}`,
      );
      try {
        assert.deepEqual(resetOf(await stream.next()), { channel, reason: "epoch", oldest: after });
        assert.deepEqual(idsOf(await stream.take(1)), [after]);
      } finally {
        await stream.close();
      }
    },
  },
  {
    name: "sse: DELETE of a channel sends reset (deleted) to open streams, which then go on; old cursors reset",
    async run(target) {
      const channel = uniqueName("sse-drop");
      const old = await publish(target, channel, { i: 0 });
      const stream = await streamOf(target, `subscribe:${channel}`, `/v1/channels/${channel}/events`);
      try {
        const dropped = await authed(target, "admin", `/v1/channels/${channel}`, { method: "DELETE" });
        assert.ok(dropped.status === 204 || dropped.status === 200, `DELETE answered ${dropped.status}`);
        await dropped.body?.cancel();
        const reset = await stream.next();
        assert.deepEqual(resetOf(reset), { channel, reason: "deleted", oldest: null });
        assert.ok(reset.id);
        const fresh = await publish(target, channel, { i: 1 });
        assert.equal(messageOf(await stream.next()).id, fresh);
      } finally {
        await stream.close();
      }
      const resumed = await streamOf(target, `subscribe:${channel}`, `/v1/channels/${channel}/events`, {
        "last-event-id": old,
      });
      try {
        assert.ok(["epoch", "deleted"].includes(resetOf(await resumed.next()).reason));
      } finally {
        await resumed.close();
      }
    },
  },
  {
    name: "sse: 32 channels on one connection: compound id:, single-channel data.id, resume replays each channel",
    async run(target) {
      const prefix = uniqueName("sse-many");
      const channels = Array.from({ length: 32 }, (_, i) => `${prefix}.${i}`);
      const query = channels.map((channel) => `channel=${channel}`).join("&");
      const scope = `subscribe:${prefix}.*`;
      const stream = await streamOf(target, scope, `/v1/events?${query}`);
      let lastId: string | undefined;
      try {
        const round1 = await publishToEach(target, channels, (channel) => ({ round: 1, channel }));
        const events = await stream.take(32);
        assert.deepEqual(new Set(idsOf(events)), new Set(round1), "each channel's message arrives once");
        for (const event of events) {
          const message = messageOf(event);
          assert.ok(!message.id.includes("~"), "data.id stays the single-channel cursor");
          assert.equal(cursorParts(message.id).channel, message.channel);
        }
        lastId = stream.lastEventId;
        assert.ok(lastId);
        assert.equal(lastId.split("~").length, 32, "the stream's id: holds one position per channel");
      } finally {
        await stream.close();
      }
      const round2 = await publishToEach(target, channels, (channel) => ({ round: 2, channel }));
      const resumed = await streamOf(target, scope, `/v1/events?${query}`, {
        "last-event-id": lastId as string,
      });
      try {
        const replayed = idsOf(await resumed.take(32));
        assert.deepEqual(new Set(replayed), new Set(round2), "every channel replays only what it missed");
        await expectNothingBut(target, resumed, channels[7] as string);
      } finally {
        await resumed.close();
      }
    },
  },
  {
    name: "sse: a pattern stream delivers matching channels only, resumes them, and needs a scope covering the pattern",
    async run(target) {
      const prefix = uniqueName("sse-pat");
      const pattern = `${prefix}.*`;
      await expectProblem(
        await authed(target, `subscribe:${prefix}.a`, `/v1/events?pattern=${pattern}`),
        403,
        "forbidden",
      );
      await expectProblem(
        await authed(target, `subscribe:${prefix}.*`, "/v1/events?pattern=*"),
        403,
        "forbidden",
      );
      // A scope `?` is one character: it covers neither a pattern `*` nor a class of another character.
      for (const [scope, wider] of [
        ["?", "*"],
        [`${prefix}.?`, `${prefix}.*`],
        [`*-*`, "[a-z]"],
      ]) {
        await expectProblem(
          await authed(
            target,
            `subscribe:${scope}`,
            `/v1/events?pattern=${encodeURIComponent(wider ?? "")}&raw=1`,
          ),
          403,
          "forbidden",
        );
      }
      const stream = await streamOf(
        target,
        `subscribe:${prefix}.*`,
        `/v1/events?pattern=${encodeURIComponent(pattern)}`,
      );
      let lastId: string | undefined;
      try {
        await publish(target, `${prefix}-other`, { no: true });
        const a = await publish(target, `${prefix}.a`, { yes: 1 });
        const b = await publish(target, `${prefix}.b`, { yes: 2 });
        const events = await stream.take(2);
        // On a Redis Cluster the two channels live on different nodes, whose notifications reach the subscriber
        // through the cluster bus in either order: order holds per channel, not across them.
        const ids = idsOf(events);
        assert.deepEqual(target.cluster ? [...ids].sort() : ids, target.cluster ? [a, b].sort() : [a, b]);
        lastId = stream.lastEventId;
        assert.equal(lastId?.split("~").length, 2, "pattern streams use a compound id");
      } finally {
        await stream.close();
      }
      const missed = await publish(target, `${prefix}.a`, { yes: 3 });
      const resumed = await streamOf(target, `subscribe:${prefix}.*`, `/v1/events?pattern=${pattern}`, {
        "last-event-id": lastId as string,
      });
      try {
        assert.deepEqual(
          idsOf(await resumed.take(1)),
          [missed],
          "channels seen through the pattern are replayed",
        );
      } finally {
        await resumed.close();
      }
      // `?` must survive the trip to the upstream subscribe URL (pre-encoded as %3F).
      const single = await streamOf(
        target,
        `subscribe:${prefix}.*`,
        `/v1/events?pattern=${encodeURIComponent(`${prefix}.?y`)}`,
      );
      try {
        // Channels the earlier streams did not use: on a cluster a notification of `.a` may still be on its way.
        await publish(target, `${prefix}.long`, { no: true });
        const x = await publish(target, `${prefix}.xy`, { yes: 4 });
        assert.deepEqual(idsOf(await single.take(1)), [x]);
      } finally {
        await single.close();
      }
    },
  },
  {
    name: "sse raw: a PUBLISH from a plain Redis client reaches raw=1 subscribers (channel and pattern), without id:",
    async run(target) {
      const prefix = uniqueName("sse-raw");
      const channel = `${prefix}.x`;
      const byChannel = await streamOf(
        target,
        `subscribe:${prefix}.*`,
        `/v1/events?channel=${channel}&raw=1`,
      );
      const byPattern = await streamOf(
        target,
        `subscribe:${prefix}.*`,
        `/v1/events?pattern=${prefix}.*&raw=1`,
      );
      try {
        assert.ok(
          (await subscribersOf(target, channel, "hello, world")) >= 1,
          "the relay's raw subscription is a real Redis subscriber",
        );
        const event = await byChannel.next();
        assert.equal(event.id, undefined, "raw streams are live only: no id");
        const raw = JSON.parse(event.data) as Record<string, unknown>;
        assert.deepEqual({ ...raw, time: 0 }, { channel, event: "message", data: "hello, world", time: 0 });
        assert.equal(typeof raw.time, "number");
        const matched = JSON.parse((await byPattern.next()).data) as Record<string, unknown>;
        assert.deepEqual(
          { ...matched, time: 0 },
          { channel, pattern: `${prefix}.*`, event: "message", data: "hello, world", time: 0 },
        );
        // A relay publish is mirrored to the classic channel as the raw payload.
        await publish(target, channel, { via: "relay" });
        assert.equal((JSON.parse((await byChannel.next()).data) as { data: string }).data, '{"via":"relay"}');
      } finally {
        await byChannel.close();
        await byPattern.close();
      }
    },
  },
  {
    name: "sse: HEAD is 405 (Allow: GET) and subscribes nothing (a body no one reads would hold the subscription)",
    async run(target) {
      const channel = uniqueName("sse-head");
      for (const path of [`/v1/events?channel=${channel}`, `/v1/channels/${channel}/events`]) {
        const response = await authed(target, `subscribe:${channel}`, path, { method: "HEAD" });
        await response.body?.cancel();
        assert.equal(response.status, 405, `HEAD ${path}`);
        assert.equal(response.headers.get("allow"), "GET");
      }
      assert.equal(await pubsubCount(target, "PUBSUB", "NUMSUB", `relay:{${channel}}:live`), 0);
    },
  },
  {
    name: "sse: closing the client releases its upstream subscriptions (no leak on the proxy)",
    async run(target) {
      const prefix = uniqueName("sse-leak");
      const channel = `${prefix}.c`;
      const live = `relay:{${channel}}:live`;
      const probe = `relay:{${prefix}.probe}:live`;
      const stream = await streamOf(
        target,
        `subscribe:${prefix}.*`,
        `/v1/events?channel=${channel}&pattern=${prefix}.p*`,
      );
      const rawStream = await streamOf(
        target,
        `subscribe:${prefix}.*`,
        `/v1/events?channel=${prefix}.r&raw=1`,
      );
      try {
        assert.ok((await pubsubCount(target, "PUBSUB", "NUMSUB", live)) >= 1, "subscribed while open");
        assert.ok((await patternMatches(target, probe)) >= 1, "the pattern subscription matches while open");
        assert.ok((await pubsubCount(target, "PUBSUB", "NUMSUB", `${prefix}.r`)) >= 1);
      } finally {
        await stream.close();
        await rawStream.close();
      }
      // Workers notices a gone client at the next write (a heartbeat) at the latest.
      const timeout = 60_000;
      await eventually(
        async () => (await pubsubCount(target, "PUBSUB", "NUMSUB", live)) === 0,
        "NUMSUB 0",
        timeout,
      );
      await eventually(async () => (await patternMatches(target, probe)) === 0, "no pattern match", timeout);
      await eventually(
        async () => (await pubsubCount(target, "PUBSUB", "NUMSUB", `${prefix}.r`)) === 0,
        "raw NUMSUB 0",
        timeout,
      );
    },
  },
  {
    name: "sse auth: 401 without or with a bad token, 403 when one channel is not covered, stream closes at exp",
    async run(target) {
      const channel = uniqueName("sse-auth");
      await expectProblem(await target.fetch(`/v1/channels/${channel}/events`), 401, "unauthorized");
      await expectProblem(
        await target.fetch(`/v1/channels/${channel}/events?access_token=not.a.jwt`),
        401,
        "unauthorized",
      );
      const other = uniqueName("sse-auth-other");
      const forbidden = await authed(
        target,
        `subscribe:${channel}`,
        `/v1/events?channel=${channel}&channel=${other}`,
      );
      const problem = await expectProblem(forbidden, 403, "forbidden");
      assert.match(problem.detail, new RegExp(other));
      const token = await target.token(`subscribe:${channel}`, { expiresInSeconds: 2 });
      const stream = await openSse(target, `/v1/channels/${channel}/events?access_token=${token}`);
      try {
        await stream.ended(30_000);
        assert.equal(stream.retry, undefined, "an expired token gets no retry: invitation");
      } finally {
        await stream.close();
      }
    },
  },
  {
    name: "sse hostile input: bad names, CR/LF, bad and huge cursors, too many channels, bad flags are 400s",
    async run(target) {
      const scope = "subscribe:*";
      const cases: Array<[string, Record<string, string>, string]> = [
        ["/v1/events", {}, "invalid_parameter"],
        ["/v1/events?channel=a%0D%0Ab", {}, "invalid_name"],
        ["/v1/channels/a%0Ab/events", {}, "invalid_name"],
        ["/v1/events?channel=%FF%FE", {}, "invalid_name"],
        [`/v1/events?channel=${"x".repeat(201)}`, {}, "invalid_name"],
        ["/v1/events?pattern=a[b", {}, "invalid_name"],
        [
          `/v1/events?${Array.from({ length: 65 }, (_, i) => `channel=c${i}`).join("&")}`,
          {},
          "invalid_parameter",
        ],
        ["/v1/events?channel=a&lastEventId=garbage", {}, "invalid_cursor"],
        // Under the 16 KB header limit of Node's HTTP server (a bigger one is the runtime's 431, not ours).
        ["/v1/events?channel=a", { "last-event-id": "x".repeat(8000) }, "invalid_cursor"],
        [
          "/v1/events?channel=a",
          { "last-event-id": Array.from({ length: 300 }, (_, i) => `YQ.e${i}.1-0`).join("~") },
          "invalid_cursor",
        ],
        ["/v1/events?channel=a", { "last-event-id": `YQ.e.${"9".repeat(30)}-0` }, "invalid_cursor"],
        ["/v1/events?channel=a&raw=yes", {}, "invalid_parameter"],
        ["/v1/events?channel=a&raw=1&lastEventId=YQ.e.1-0", {}, "invalid_parameter"],
      ];
      for (const [path, headers, code] of cases) {
        const response = await authed(target, scope, path, { headers });
        await expectProblem(response, 400, code);
      }
    },
  },
  {
    name: "sse hostile writers: junk on a relay live channel is ignored; a stored event name with CR/LF or `reset` cannot forge frames",
    async run(target) {
      const channel = uniqueName("sse-foreign");
      const cursor = await publish(target, channel, { i: 0 });
      const { epoch } = cursorParts(cursor);
      const log = `relay:{${channel}}:log`;
      // A foreign writer (EVAL/XADD from another language) stores entries with hostile event names.
      const evil = String(
        await target.redis.exec(["XADD", log, "*", "data", "x", "type", "text", "event", "a\nevent: reset"]),
      );
      const forged = String(
        await target.redis.exec(["XADD", log, "*", "data", "y", "type", "text", "event", "reset"]),
      );
      const stream = await streamOf(target, `subscribe:${channel}`, `/v1/channels/${channel}/events`, {
        "last-event-id": cursor,
      });
      try {
        const [first, second] = (await stream.take(2)) as [SseEvent, SseEvent];
        assert.equal(first.event, undefined, "an invalid stored event name is sent as a plain message");
        assert.equal(messageOf(first).id.endsWith(evil), true);
        assert.equal(messageOf(first).data, "x");
        assert.equal(second.event, undefined, "a stored `reset` cannot forge a reset frame");
        assert.equal(messageOf(second).id.endsWith(forged), true);
        const live = `relay:{${channel}}:live`;
        await target.redis.publish(live, "not json at all");
        await target.redis.publish(live, JSON.stringify({ id: "1-0" }));
        // A foreign publisher doing XADD + PUBLISH itself, with a hostile event name.
        const note = { id: "99999999999999-0", epoch, type: "text", data: "z", event: "b\r\nevent: reset" };
        await target.redis.exec([
          "XADD",
          log,
          note.id,
          "data",
          note.data,
          "type",
          note.type,
          "event",
          note.event,
        ]);
        await target.redis.publish(live, JSON.stringify(note));
        const injected = await stream.next();
        assert.equal(injected.event, undefined);
        assert.equal(messageOf(injected).data, "z");
        await expectNothingBut(target, stream, channel);
      } finally {
        await stream.close();
      }
    },
  },
  {
    name: "sse budget: opening a stream costs one upstream stream per channel plus one replay pipeline",
    async run(target) {
      const prefix = uniqueName("sse-budget");
      const channels = [`${prefix}.a`, `${prefix}.b`, `${prefix}.c`];
      const cursor = await publish(target, channels[0] as string, { i: 0 });
      await publish(target, channels[0] as string, { i: 1 });
      const query = channels.map((channel) => `channel=${channel}`).join("&");
      const stream = await streamOf(target, `subscribe:${prefix}.*`, `/v1/events?${query}`, {
        "last-event-id": cursor,
      });
      try {
        // Direct path: 3 subscribe streams + 1 pipelined replay (+1 the first time the history script meets this
        // Redis). With the hub the channels' upstream subscriptions are shared, not the request's: the replay only.
        const calls = redisCalls(stream.response);
        const [least, most] = target.hub ? [1, 2] : [4, 5];
        assert.ok(
          calls >= least && calls <= most,
          `expected ${least}-${most} Redis calls before the headers, got ${calls}`,
        );
        assert.equal(idsOf(await stream.take(1)).length, 1);
      } finally {
        await stream.close();
      }
    },
  },
];

/**
 * For runners that serve the relay on a socket with RELAY_HEARTBEAT_MS=1000: what a browser sees on the wire.
 */
export const sseSocketScenarios: Scenario[] = [
  {
    name: "sse over a socket: heartbeats arrive one by one while the stream is idle (nothing buffers it)",
    async run(target) {
      const channel = uniqueName("sse-wire");
      const stream = await streamOf(target, `subscribe:${channel}`, `/v1/channels/${channel}/events`);
      try {
        await eventually(async () => stream.comments.length >= 1, "a first keepalive");
        const first = stream.comments.length;
        await eventually(async () => stream.comments.length > first, "a second keepalive, separately");
        assert.ok(stream.comments.every((comment) => comment === "keepalive"));
        assert.equal(
          stream.response.headers.get("content-encoding")?.toLowerCase() ?? "identity",
          "identity",
        );
        const id = await publish(target, channel, { after: "heartbeats" });
        assert.equal(messageOf(await stream.next()).id, id);
      } finally {
        await stream.close();
      }
    },
  },
];
