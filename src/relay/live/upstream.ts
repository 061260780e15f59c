import type { Redis } from "@upstash/redis/cloudflare";

/** One message as it arrived on an upstream subscribe/psubscribe stream (payload untouched). */
export interface UpstreamMessage {
  /** The Redis pub/sub channel the message was published on. */
  channel: string;
  /** The pattern that matched, for psubscribe streams; as the caller gave it (not %-encoded). */
  pattern?: string;
  /** The payload text, as the subscribe stream carried it (one line). */
  payload: string;
}

export interface UpstreamSubscription {
  /** Resolves once Redis confirmed every channel and pattern; rejects on an upstream error or timeout. */
  ready: Promise<void>;
  /** Aborts every upstream stream. Idempotent; safe to call before `ready` settles. */
  close(): void;
  readonly closed: boolean;
}

export interface UpstreamSubscriptionOptions {
  channels: readonly string[];
  patterns: readonly string[];
  onMessage(message: UpstreamMessage): void;
  /** An upstream stream failed after `ready`. Not called after `close()`. */
  onError(error: Error): void;
  /** How long to wait for every confirmation before `ready` rejects. */
  readyTimeoutMs?: number;
}

const DEFAULT_READY_TIMEOUT_MS = 10_000;

/**
 * Subscribes through `@upstash/redis` (one upstream HTTP stream per channel or pattern). The client has no
 * ready promise, so readiness is counted from its `subscribe`/`psubscribe` events, one per stream.
 */
export function subscribeUpstream(redis: Redis, options: UpstreamSubscriptionOptions): UpstreamSubscription {
  const expected = options.channels.length + options.patterns.length;
  const subscribers: Array<ReturnType<Redis["subscribe"]>> = [];
  let confirmed = 0;
  let closed = false;
  let settled = false;
  let resolveReady: () => void = () => {};
  let rejectReady: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // The caller may close before awaiting `ready`; never leave an unhandled rejection behind.
  ready.catch(() => {});

  const timer =
    expected === 0
      ? undefined
      : setTimeout(() => {
          fail(
            new Error(
              `upstream subscribe not confirmed within ${options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS} ms ` +
                `(${confirmed} of ${expected} streams confirmed)`,
            ),
          );
        }, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);

  function settle() {
    settled = true;
    if (timer !== undefined) clearTimeout(timer);
  }
  function fail(error: Error) {
    if (closed) return;
    if (!settled) {
      settle();
      rejectReady(error);
      close();
      return;
    }
    options.onError(error);
  }
  function onConfirmed() {
    confirmed += 1;
    if (!settled && confirmed >= expected) {
      settle();
      resolveReady();
    } else if (settled && confirmed > expected) {
      // The endpoint subscribed again (our proxy says so after its Redis subscriber reconnected): whatever was
      // published in between reached no one. Report it, so a durable stream ends and resumes from its cursor.
      fail(new Error("the upstream subscription was interrupted and restored; live messages may be missing"));
    }
  }
  function close() {
    if (closed) return;
    closed = true;
    if (!settled) {
      settle();
      rejectReady(new Error("upstream subscription closed before it was confirmed"));
    }
    for (const subscriber of subscribers) {
      // unsubscribe() aborts each stream's fetch; the proxy sees the close and releases its reference.
      subscriber.unsubscribe().catch(() => {});
    }
  }

  if (expected === 0) {
    settle();
    resolveReady();
  }

  if (options.channels.length > 0) {
    const subscriber = redis.subscribe<string>([...options.channels]);
    subscriber.on("subscribe", onConfirmed);
    subscriber.on("message", ({ channel, message }) => {
      if (!closed) options.onMessage({ channel, payload: asText(message) });
    });
    subscriber.on("error", (error) => fail(error));
    subscribers.push(subscriber);
  }
  if (options.patterns.length > 0) {
    // The client joins the pattern into the URL path unencoded: a `?` would start a query string.
    const encoded = new Map(options.patterns.map((pattern) => [pattern.replaceAll("?", "%3F"), pattern]));
    const decoded = new Map(options.patterns.map((pattern) => [pattern, pattern]));
    const subscriber = redis.psubscribe<string>([...encoded.keys()]);
    subscriber.on("psubscribe", onConfirmed);
    subscriber.on("pmessage", ({ pattern, channel, message }) => {
      if (closed) return;
      const original = decoded.get(pattern) ?? encoded.get(pattern) ?? pattern;
      options.onMessage({ channel, pattern: original, payload: asText(message) });
    });
    subscriber.on("error", (error) => fail(error));
    subscribers.push(subscriber);
  }

  return {
    ready,
    close,
    get closed() {
      return closed;
    },
  };
}

/** With automaticDeserialization off the payload is the raw line; tolerate a client that parsed it. */
function asText(message: unknown): string {
  return typeof message === "string" ? message : JSON.stringify(message);
}
