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
export function parseJson(text: string): unknown {
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
    open(channel, count, onMessage) {
      return openSseSubscribers(
        `${relayUrl}/v1/channels/${encodeURIComponent(channel)}/events`,
        authorization,
        count,
        onMessage,
      );
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

/**
 * A runtime's fan-out floor (bench/floors): it writes the POSTed body as the frame's data, so the body is shaped
 * like a relay message (`{"data":{"seq":n}}`) and the same SSE subscriber reads both. The channel is ignored: a
 * floor serves one set of streams, and scenarios on it run one after the other.
 */
export function floorTarget(floorUrl: string): FanoutTarget {
  async function publish(seq: number): Promise<void> {
    const response = await fetch(`${floorUrl}/publish`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ data: { seq } }),
    });
    const text = await response.text();
    if (response.status !== 204) throw new Error(`floor POST /publish answered ${response.status}: ${text}`);
  }
  return {
    name: "floor",
    open: (_channel, count, onMessage) => openSseSubscribers(`${floorUrl}/events`, "", count, onMessage),
    publish: (_channel, seq) => publish(seq),
    // The floor has no batch route: one request per message, in order.
    async publishBatch(_channel, seqs) {
      for (const seq of seqs) await publish(seq);
    },
  };
}

/** `count` SSE subscribers on `url`, each reporting the `seq` of every message it receives. */
async function openSseSubscribers(
  url: string,
  authorization: string,
  count: number,
  onMessage: (subscriber: number, seq: number) => void,
): Promise<OpenSubscribers> {
  let resets = 0;
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
