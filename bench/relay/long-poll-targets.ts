import type { Redis } from "ioredis";
import { connectDirect } from "./direct-redis.ts";
import { HttpConnection } from "./http-client.ts";
import type { LongPollTarget } from "./long-poll.ts";
import { seqOf } from "./targets.ts";

/** Messages per long-poll answer (the relay's `limit`, XREAD's COUNT). */
const PAGE = 100;

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
      // One keep-alive socket per loop, as each XREAD loop has its own Redis connection.
      const connection = new HttpConnection(relayUrl, { Authorization: authorization });
      const path = new URL(messagesUrl(channel)).pathname;
      return {
        async poll(cursor, signal) {
          const query = `?after=${encodeURIComponent(cursor)}&limit=${PAGE}&wait=${waitSeconds}`;
          const { status, text } = await connection.get(path + query, signal);
          if (status !== 200)
            throw new Error(`GET ${path}${query} answered ${status}: ${text.slice(0, 500)}`);
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
        async close() {
          connection.close();
        },
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
