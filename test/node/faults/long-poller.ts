import type { Delivery } from "./ledger.ts";

export interface LongPoller {
  deliveries: Delivery[];
  /** Statuses of every request, or "network" when none came. */
  answers: Array<number | "network">;
  close(): Promise<void>;
}

const RETRY_MS = 200;

/**
 * A long-poll loop: GET …/messages?after=<cursor>&wait=5, records the messages and every `gap: true`, continues
 * from the answer's cursor, and retries the same cursor on 503, 504 and network errors after ~200 ms. The first
 * request (no cursor yet) takes the latest page, which is empty before the scenario publishes.
 */
export function startLongPoller(channelUrl: string, token: string): LongPoller {
  const deliveries: Delivery[] = [];
  const answers: Array<number | "network"> = [];
  const controller = new AbortController();
  let cursor: string | undefined;

  const done = (async () => {
    while (!controller.signal.aborted) {
      const url = new URL(`${channelUrl}/messages`);
      url.searchParams.set("wait", "5");
      if (cursor !== undefined) url.searchParams.set("after", cursor);
      try {
        const response = await fetch(url, {
          headers: { authorization: `Bearer ${token}` },
          signal: controller.signal,
        });
        answers.push(response.status);
        if (response.status === 200) {
          const page = (await response.json()) as {
            messages: Array<{ id: string; data: { seq: number } }>;
            cursor: string;
            gap: boolean;
          };
          const at = Date.now();
          if (page.gap) deliveries.push({ kind: "loss", at, detail: "gap" });
          for (const message of page.messages)
            deliveries.push({ kind: "message", id: message.id, seq: message.data.seq, at });
          cursor = page.cursor;
          continue;
        }
        await response.body?.cancel();
      } catch {
        if (controller.signal.aborted) break;
        answers.push("network");
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  })();

  return {
    deliveries,
    answers,
    async close() {
      controller.abort();
      await done;
    },
  };
}
