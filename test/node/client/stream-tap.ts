import type { FetchLike } from "../../../src/client/index.ts";

/**
 * A fetch (the global one, or `base`, e.g. a Workers service binding) whose event-stream bodies the test can watch: the bytes pass through unchanged,
 * one chunk per read of the client, so "the client asked for the next chunk" proves it has finished with every
 * chunk before it. Nothing is altered or invented; it only tells the test how far the client got.
 */
export interface StreamTap {
  fetch: FetchLike;
  /** Response headers of every event stream opened so far. */
  readonly headers: Headers[];
  /**
   * Resolves once the text of the current stream satisfies `seen` and the client then asked for more: it has
   * read and handled everything up to there.
   */
  consumed(seen: (text: string) => boolean): Promise<void>;
}

export function tapEventStreams(base: FetchLike = (request) => fetch(request)): StreamTap {
  const headers: Headers[] = [];
  let text = "";
  /** The client is waiting for the next chunk: it has handled all of `text`. */
  let waiting = false;
  let waiters: Array<() => void> = [];
  const wake = () => {
    const ready = waiters;
    waiters = [];
    for (const waiter of ready) waiter();
  };
  const fetchTapped: FetchLike = async (request) => {
    const response = await base(request);
    if (!(response.headers.get("content-type") ?? "").startsWith("text/event-stream") || !response.body) {
      return response;
    }
    headers.push(response.headers);
    text = "";
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          waiting = true;
          wake(); // the client finished with what it had and asks for more
          const { done, value } = await reader.read();
          waiting = false;
          if (done) {
            controller.close();
            return;
          }
          text += decoder.decode(value, { stream: true });
          controller.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
    return new Response(body, response);
  };
  return {
    fetch: fetchTapped,
    headers,
    consumed(seen) {
      return new Promise((resolve) => {
        const check = () => {
          if (waiting && seen(text)) resolve();
          else waiters.push(check);
        };
        check();
      });
    },
  };
}
