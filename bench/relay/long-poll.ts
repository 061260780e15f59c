import type { Redis } from "ioredis";
import { createDeliveryTracker, type DeliveryCheck } from "./deliveries.ts";
import { connectDirect } from "./direct-redis.ts";
import { seqOf } from "./targets.ts";

/** One poll's answer: the message numbers it carried, where to continue, and whether history had a gap. */
interface PollAnswer {
  seqs: number[];
  cursor: string;
  gap: boolean;
}

interface Poller {
  poll(cursor: string, signal: AbortSignal): Promise<PollAnswer>;
  close(): Promise<void>;
}

/** A durable log read by long-polling loops: the relay's `/messages?wait=`, or XREAD BLOCK on Redis directly. */
export interface LongPollTarget {
  name: string;
  /** Publishes an unnumbered first message; its cursor is where every loop starts. */
  start(channel: string): Promise<string>;
  publish(channel: string, seq: number): Promise<void>;
  poller(channel: string): Promise<Poller>;
  close(): Promise<void>;
}

export interface LongPollPlan {
  loops: number;
  messages: number;
  waitSeconds: number;
}

export interface LongPollResult {
  target: string;
  loops: number;
  requests: number;
  requestsPerSecond: number;
  latencies: number[];
  gaps: number;
  check: DeliveryCheck;
  errors: string[];
}

const DEADLINE_MS = 60_000;
const PAGE = 100;

export async function measureLongPoll(
  target: LongPollTarget,
  channel: string,
  plan: LongPollPlan,
): Promise<LongPollResult> {
  const tracker = createDeliveryTracker(plan.loops);
  const startCursor = await target.start(channel);
  const abort = new AbortController();
  const deadline = setTimeout(
    () => abort.abort(new Error(`long-poll loops did not finish within ${DEADLINE_MS} ms`)),
    DEADLINE_MS,
  );
  const errors: string[] = [];
  let requests = 0;
  let gaps = 0;

  const pollers = await Promise.all(Array.from({ length: plan.loops }, () => target.poller(channel)));
  async function loop(index: number, poller: Poller) {
    const seen = new Set<number>();
    let cursor = startCursor;
    while (seen.size < plan.messages && !abort.signal.aborted) {
      try {
        const answer = await poller.poll(cursor, abort.signal);
        requests += 1;
        if (answer.gap) gaps += 1;
        for (const seq of answer.seqs) {
          tracker.record(index, seq);
          seen.add(seq);
        }
        cursor = answer.cursor;
      } catch (error) {
        if (!abort.signal.aborted) errors.push(error instanceof Error ? error.message : String(error));
        return;
      }
    }
  }

  const started = performance.now();
  const loops = pollers.map((poller, index) => loop(index, poller));
  try {
    for (let seq = 0; seq < plan.messages && !abort.signal.aborted; seq++) {
      tracker.published(seq);
      await target.publish(channel, seq);
    }
    await Promise.all(loops);
  } finally {
    clearTimeout(deadline);
    abort.abort();
    await Promise.all(pollers.map((poller) => poller.close()));
  }
  const elapsedMs = performance.now() - started;
  return {
    target: target.name,
    loops: plan.loops,
    requests,
    requestsPerSecond: (requests / elapsedMs) * 1000,
    latencies: tracker.latencies(0, plan.messages),
    gaps,
    check: tracker.check(0, plan.messages),
    errors: [...new Set(errors)],
  };
}

export function relayLongPollTarget(
  relayUrl: string,
  authorization: string,
  waitSeconds: number,
): LongPollTarget {
  const messagesUrl = (channel: string) => `${relayUrl}/v1/channels/${encodeURIComponent(channel)}/messages`;
  async function post(channel: string, data: unknown): Promise<string> {
    const response = await fetch(messagesUrl(channel), {
      method: "POST",
      headers: { Authorization: authorization, "Content-Type": "application/json" },
      body: JSON.stringify(data),
    });
    const text = await response.text();
    if (response.status !== 201)
      throw new Error(`POST ${messagesUrl(channel)} answered ${response.status}: ${text.slice(0, 500)}`);
    return (JSON.parse(text) as { id: string }).id;
  }
  return {
    name: "relay",
    start: (channel) => post(channel, { start: true }),
    async publish(channel, seq) {
      await post(channel, { seq });
    },
    async poller(channel) {
      return {
        async poll(cursor, signal) {
          const url = `${messagesUrl(channel)}?after=${encodeURIComponent(cursor)}&limit=${PAGE}&wait=${waitSeconds}`;
          // One controller per request: a signal shared by thousands of fetches collects a listener per fetch.
          const request = new AbortController();
          const onAbort = () => request.abort();
          signal.addEventListener("abort", onAbort, { once: true });
          let response: Response;
          let text: string;
          try {
            response = await fetch(url, {
              headers: { Authorization: authorization },
              signal: request.signal,
            });
            text = await response.text();
          } finally {
            signal.removeEventListener("abort", onAbort);
          }
          if (response.status !== 200)
            throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 500)}`);
          const body = JSON.parse(text) as {
            messages: Array<{ data: unknown }>;
            cursor: string;
            gap: boolean;
          };
          const seqs = body.messages.flatMap((message) => {
            const seq = seqOf(message.data);
            return seq === undefined ? [] : [seq];
          });
          return { seqs, cursor: body.cursor, gap: body.gap };
        },
        async close() {},
      };
    },
    async close() {},
  };
}

/** XADD + XREAD BLOCK on one connection per loop: what a long-poll costs with no HTTP in between. */
export async function directLongPollTarget(redisUrl: string, waitSeconds: number): Promise<LongPollTarget> {
  const publisher: Redis = await connectDirect(redisUrl);
  const add = (key: string, data: unknown) =>
    publisher.xadd(key, "MAXLEN", "~", "1000", "*", "data", JSON.stringify(data));
  return {
    name: "direct Redis",
    async start(key) {
      const id = await add(key, { start: true });
      if (!id) throw new Error(`XADD ${key} returned no id`);
      return id;
    },
    async publish(key, seq) {
      await add(key, { seq });
    },
    async poller(key) {
      const client = await connectDirect(redisUrl);
      return {
        async poll(cursor, signal) {
          const onAbort = () => client.disconnect();
          signal.addEventListener("abort", onAbort, { once: true });
          try {
            const reply = await client.xread(
              "COUNT",
              PAGE,
              "BLOCK",
              waitSeconds * 1000,
              "STREAMS",
              key,
              cursor,
            );
            const entries = reply?.[0]?.[1] ?? [];
            const seqs: number[] = [];
            for (const [, fields] of entries) {
              const seq = seqOf(JSON.parse(fields[1] ?? "null"));
              if (seq !== undefined) seqs.push(seq);
            }
            const last = entries.at(-1)?.[0] ?? cursor;
            return { seqs, cursor: last, gap: false };
          } finally {
            signal.removeEventListener("abort", onAbort);
          }
        },
        async close() {
          client.disconnect();
        },
      };
    },
    async close() {
      publisher.disconnect();
    },
  };
}
