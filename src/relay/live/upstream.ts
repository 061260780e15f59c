import {
  openUpstreamStream,
  type UpstreamEndpoint,
  type UpstreamMessage,
  type UpstreamStream,
} from "./upstream-stream.ts";

export type { UpstreamEndpoint, UpstreamMessage } from "./upstream-stream.ts";

/** The endpoint of a request's upstream streams: the configured REST URL and token, counted per request. */
export function requestEndpoint(
  upstash: { url: string; token: string },
  counter: { count: number },
): UpstreamEndpoint {
  return { url: upstash.url, token: upstash.token, counter };
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
  /**
   * After `ready`: an upstream stream ended, failed, or was restored after an interruption (live messages may
   * be missing). Called once; not after `close()`.
   */
  onError(error: Error): void;
  /** How long to wait for every confirmation before `ready` rejects. */
  readyTimeoutMs?: number;
}

const DEFAULT_READY_TIMEOUT_MS = 10_000;

/**
 * The direct path's subscription (no hub): one upstream stream per channel and pattern, as `@upstash/redis`
 * would open them, all for one relay stream or long-poll. It has no way to repair a gap, so any interruption
 * is reported once through `onError` and the caller ends its stream (the client resumes from its cursor).
 */
export function subscribeUpstream(
  endpoint: UpstreamEndpoint,
  options: UpstreamSubscriptionOptions,
): UpstreamSubscription {
  const expected = options.channels.length + options.patterns.length;
  const streams: UpstreamStream[] = [];
  let confirmed = 0;
  let closed = false;
  let settled = false;
  let failed = false;
  let resolveReady: () => void = () => {};
  let rejectReady: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // The caller may close before awaiting `ready`; never leave an unhandled rejection behind.
  ready.catch(() => {});

  const timeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const timer =
    expected === 0
      ? undefined
      : setTimeout(() => {
          fail(
            new Error(
              `upstream subscribe not confirmed within ${timeoutMs} ms (${confirmed} of ${expected} streams confirmed)`,
            ),
          );
        }, timeoutMs);

  function settle() {
    settled = true;
    if (timer !== undefined) clearTimeout(timer);
  }
  function fail(error: Error) {
    if (closed || failed) return;
    if (!settled) {
      settle();
      rejectReady(error);
      close();
      return;
    }
    failed = true;
    options.onError(error);
  }
  function close() {
    if (closed) return;
    closed = true;
    if (!settled) {
      settle();
      rejectReady(new Error("upstream subscription closed before it was confirmed"));
    }
    // Aborting each request is the unsubscribe: the endpoint sees the close and releases its reference.
    for (const stream of streams) stream.close();
  }

  if (expected === 0) {
    settle();
    resolveReady();
  }

  const open = (kind: "channel" | "pattern", name: string) => {
    let confirmedOnce = false;
    streams.push(
      openUpstreamStream(endpoint, kind, name, {
        onConfirmed() {
          if (confirmedOnce) {
            // The endpoint subscribed again (our proxy says so after its Redis subscriber reconnected): whatever
            // was published in between reached no one.
            fail(
              new Error(
                "the upstream subscription was interrupted and restored; live messages may be missing",
              ),
            );
            return;
          }
          confirmedOnce = true;
          confirmed += 1;
          if (!settled && confirmed >= expected) {
            settle();
            resolveReady();
          }
        },
        onMessage(message) {
          if (!closed) options.onMessage(message);
        },
        onEnd: fail,
      }),
    );
  };
  for (const channel of options.channels) open("channel", channel);
  for (const pattern of options.patterns) open("pattern", pattern);

  return {
    ready,
    close,
    get closed() {
      return closed;
    },
  };
}
