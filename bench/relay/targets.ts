import type { Redis } from "ioredis";
import { openDirectSubscribers } from "./direct-redis.ts";
import { openAll } from "./open-all.ts";
import { openSseSubscriber } from "./sse-subscriber.ts";

/** Subscribers opened on one channel; `reconnects`/`resets`/`errors` are reported next to loss and duplicates. */
export interface OpenSubscribers {
  reconnects(): number;
  resets(): number;
  errors(): string[];
  close(): Promise<void>;
}

/** One pub/sub system under measurement: the relay over HTTP, or Redis itself over TCP (the baseline). */
export interface FanoutTarget {
  name: string;
  open(
    channel: string,
    count: number,
    onMessage: (subscriber: number, seq: number) => void,
  ): Promise<OpenSubscribers>;
  publish(channel: string, seq: number): Promise<void>;
  /** Publishes several messages in one round trip, in order. */
  publishBatch(channel: string, seqs: readonly number[]): Promise<void>;
  /**
   * A plain Redis subscriber on the channel's raw mirror (published by the same Lua script as the live
   * notification): marks when Redis emitted each message, splitting delivery time into before and after Redis.
   */
  tap?(channel: string, onSeq: (seq: number) => void): Promise<{ close(): Promise<void> }>;
}

/** The number a benchmark message carries; anything else is not ours. */
export function seqOf(data: unknown): number | undefined {
  if (typeof data === "object" && data !== null && "seq" in data && typeof data.seq === "number")
    return data.seq;
  return undefined;
}

const OPEN_CONCURRENCY = 50;

/** Payloads on a shared Redis channel may be anyone's: not JSON means not ours. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function relayTarget(relayUrl: string, authorization: string, redisUrl: string): FanoutTarget {
  async function post(path: string, body: unknown): Promise<void> {
    const response = await fetch(`${relayUrl}${path}`, {
      method: "POST",
      headers: { Authorization: authorization, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== 201)
      throw new Error(`POST ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  }
  return {
    name: "relay",
    async open(channel, count, onMessage) {
      let resets = 0;
      const url = `${relayUrl}/v1/channels/${encodeURIComponent(channel)}/events`;
      const subscribers = await openAll(
        count,
        OPEN_CONCURRENCY,
        (index) =>
          openSseSubscriber({
            url,
            authorization,
            onMessage(data) {
              const seq = seqOf(data);
              if (seq !== undefined) onMessage(index, seq);
            },
            onReset() {
              resets += 1;
            },
          }),
        (subscriber) => subscriber.close(),
      );
      return {
        reconnects: () => subscribers.reduce((sum, s) => sum + s.reconnects, 0),
        resets: () => resets,
        errors: () => subscribers.flatMap((s) => s.problems),
        async close() {
          for (const subscriber of subscribers) subscriber.close();
        },
      };
    },
    publish(channel, seq) {
      return post(`/v1/channels/${encodeURIComponent(channel)}/messages`, { seq });
    },
    publishBatch(channel, seqs) {
      return post("/v1/publish", { messages: seqs.map((seq) => ({ channel, data: { seq } })) });
    },
    tap(channel, onSeq) {
      return openDirectSubscribers(redisUrl, channel, 1, (_subscriber, payload) => {
        const seq = seqOf(parseJson(payload));
        if (seq !== undefined) onSeq(seq);
      });
    },
  };
}

export function directTarget(redisUrl: string, publisher: Redis): FanoutTarget {
  return {
    name: "direct Redis",
    async open(channel, count, onMessage) {
      const subscribers = await openDirectSubscribers(
        redisUrl,
        channel,
        count,
        (subscriber, payload) => {
          const seq = seqOf(parseJson(payload));
          if (seq !== undefined) onMessage(subscriber, seq);
        },
        OPEN_CONCURRENCY,
      );
      return { reconnects: () => 0, resets: () => 0, errors: () => [], close: () => subscribers.close() };
    },
    async publish(channel, seq) {
      await publisher.publish(channel, JSON.stringify({ seq }));
    },
    async publishBatch(channel, seqs) {
      const pipeline = publisher.pipeline();
      for (const seq of seqs) pipeline.publish(channel, JSON.stringify({ seq }));
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (failed?.[0]) throw failed[0];
    },
  };
}
