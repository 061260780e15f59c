import { Redis } from "ioredis";
import { openAll } from "./open-all.ts";

/** The baseline: plain Redis clients over TCP, one connection per subscriber, like one HTTP stream per SSE client. */
export interface DirectSubscribers {
  close(): Promise<void>;
}

/** Opens `count` SUBSCRIBE connections to `channel`; resolves once Redis confirmed every one of them. */
export async function openDirectSubscribers(
  redisUrl: string,
  channel: string,
  count: number,
  onMessage: (subscriber: number, payload: string) => void,
  concurrency = 50,
): Promise<DirectSubscribers> {
  const clients = await openAll(
    count,
    concurrency,
    async (index) => {
      const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      client.on("message", (_channel: string, payload: string) => onMessage(index, payload));
      try {
        await client.connect();
        await client.subscribe(channel);
      } catch (error) {
        client.disconnect();
        throw error;
      }
      return client;
    },
    (client) => client.disconnect(),
  );
  return {
    async close() {
      await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    },
  };
}

/** A plain command connection (publisher, XADD, XREAD BLOCK). */
export async function connectDirect(redisUrl: string): Promise<Redis> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}
