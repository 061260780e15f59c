import { openLiveFeed } from "./feed.ts";
import type { UpstreamEndpoint } from "./upstream.ts";

/**
 * Resolves when a live notification arrives on `channel`, when `timeoutMs` passes or `signal` aborts;
 * `recheck` runs once the subscription is confirmed and may resolve early (it closes the race between "read
 * history, found nothing" and "subscribed"). The subscription is released on every path.
 * Returns true when something arrived (or recheck said so), false on timeout/abort.
 */
export async function waitForChannel(
  endpoint: UpstreamEndpoint,
  channel: string,
  options: { timeoutMs: number; signal?: AbortSignal; recheck(): Promise<boolean> },
): Promise<boolean> {
  if (options.timeoutMs <= 0 || options.signal?.aborted) return false;
  let finish: (arrived: boolean) => void = () => {};
  const outcome = new Promise<boolean>((resolve) => {
    finish = resolve;
  });
  const feed = openLiveFeed(endpoint, {
    channels: [channel],
    patterns: [],
    readyTimeoutMs: Math.min(options.timeoutMs, 10_000),
    onItem: () => finish(true),
    onError: () => finish(false),
  });
  const timer = setTimeout(() => finish(false), options.timeoutMs);
  const onAbort = () => finish(false);
  options.signal?.addEventListener("abort", onAbort);
  try {
    const first = await Promise.race([feed.ready.then(() => "ready" as const), outcome]);
    if (first !== "ready") return first;
    if (await options.recheck()) return true;
    return await outcome;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    feed.close();
  }
}
