/**
 * Aborting must not depend on the garbage collector. Node's fetch follows a Request's signal through weak
 * references (nodejs/undici#3644): once the Request object is collected, aborting the signal reaches neither the
 * pending fetch nor the response body, so a subscription would hang until its next byte. The SDK therefore
 * listens to every signal itself and acts on what it holds strongly: it stops waiting, and it cancels the body
 * reader, which closes the connection. Passing the signal to fetch stays as well, for runtimes that honour it.
 */

/**
 * `pending`, or a rejection with `signal.reason` as soon as `signal` aborts. A value that arrives after the abort
 * is handed to `discard` (a late response gets its body cancelled, so its connection closes).
 */
export function unlessAborted<T>(
  pending: Promise<T>,
  signal: AbortSignal | undefined,
  discard: (late: T) => void,
): Promise<T> {
  if (!signal) return pending;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) discard(value);
        else resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Cancels a response body we will not read, ignoring a body that is already gone. */
export function discardResponse(response: Response): void {
  response.body?.cancel().catch(() => {});
}

/** The body as text; when `signal` aborts, the reader is cancelled (closing the connection) and this rejects. */
export async function readText(response: Response, signal?: AbortSignal): Promise<string> {
  if (!signal || !response.body) return response.text();
  const reader = response.body.getReader();
  const onAbort = () => {
    reader.cancel(signal.reason).catch(() => {});
  };
  signal.addEventListener("abort", onAbort, { once: true });
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const { done, value } = await reader.read();
      if (signal.aborted) throw signal.reason;
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
