import type {
  RelayClient,
  SubscribeOptions,
  SubscriptionEvent,
  SubscriptionStatus,
} from "../../../src/client/index.ts";

export interface Running {
  /** Resolves with the first `count` events (or rejects with the iterator's error). */
  events: Promise<SubscriptionEvent[]>;
  /** Resolves once the subscription is live (SSE headers received, or long-poll started). */
  live: Promise<void>;
  statuses: SubscriptionStatus[];
  stop(): void;
}

/**
 * Starts consuming a subscription right away (an async generator only connects when pulled) and collects
 * `count` events; `onEvent` runs for each, e.g. to cut the connection mid-burst.
 */
export function consume(
  client: RelayClient,
  channels: string | string[],
  count: number,
  options: SubscribeOptions & { onEvent?: (event: SubscriptionEvent, index: number) => void } = {},
): Running {
  const statuses: SubscriptionStatus[] = [];
  const controller = new AbortController();
  let markLive = () => {};
  const live = new Promise<void>((resolve) => {
    markLive = resolve;
  });
  const events = (async () => {
    const received: SubscriptionEvent[] = [];
    const iterator = client.subscribe(channels, {
      ...options,
      signal: options.signal ?? controller.signal,
      onStatus: (status) => {
        statuses.push(status);
        if (status.state === "open" || status.state === "long-poll") markLive();
        options.onStatus?.(status);
      },
    });
    for await (const event of iterator) {
      received.push(event);
      options.onEvent?.(event, received.length - 1);
      if (received.length >= count) break;
    }
    return received;
  })();
  return { events, live, statuses, stop: () => controller.abort() };
}

export function dataOf(events: SubscriptionEvent[]): unknown[] {
  return events.map((event) => (event.type === "message" ? event.data : { reset: event.reason }));
}
