/**
 * Graceful shutdown of a relay process (docs/sse.md#shutdown), runtime-neutral: the Node and Deno entries wire
 * their signals and their server to it; Workers never drain (the platform ends requests itself).
 *
 * Order: the server stops accepting, then `signal` aborts, which the app's SSE sessions and long-poll waits
 * listen to (streams send a final `id:` + `retry:` frame and end, long-polls answer their normal empty answer),
 * and requests in flight (publishes) finish. Whatever is still open at the deadline is cut.
 */
export type ShutdownOutcome = "drained" | "cut";

/** The runtime's server, as shutdown drives it. */
export interface DrainableServer {
  /** Stops accepting connections; resolves once every open request has finished. */
  close(): Promise<void>;
  /** At the deadline: cuts every connection still open. */
  cut(): void;
}

export interface RelayShutdown {
  /** Aborted once shutdown begins: give it to createApp (`shutdown`). */
  readonly signal: AbortSignal;
  /** Runs the shutdown once (later calls return the same promise): "drained", or "cut" at the deadline. */
  stop(server: DrainableServer): Promise<ShutdownOutcome>;
}

export interface ShutdownOptions {
  /** How long open requests get to finish (RELAY_SHUTDOWN_MS). */
  deadlineMs: number;
  /** Keeps the deadline timer from holding the process open on its own (Deno.unrefTimer). */
  unref?(timer: ReturnType<typeof setTimeout>): void;
}

export function createShutdown(options: ShutdownOptions): RelayShutdown {
  const controller = new AbortController();
  let stopping: Promise<ShutdownOutcome> | undefined;
  return {
    signal: controller.signal,
    stop(server) {
      stopping ??= (async () => {
        const closed = server.close().then(() => "drained" as const);
        controller.abort(new Error("the relay is shutting down"));
        let timer: ReturnType<typeof setTimeout> | undefined;
        const deadline = new Promise<"cut">((resolve) => {
          timer = setTimeout(() => resolve("cut"), options.deadlineMs);
          options.unref?.(timer);
        });
        const outcome = await Promise.race([closed, deadline]);
        clearTimeout(timer);
        if (outcome === "cut") server.cut();
        return outcome;
      })();
      return stopping;
    },
  };
}
