import { KEEPALIVE_FRAME } from "../../protocol/stream-headers.ts";
import type { RelayConfig } from "../config.ts";
import type { EventStream } from "./event-stream.ts";
import { formatFrame } from "./frame.ts";

/** Why a stream ended; logged and used by tests. */
export type SseEndReason =
  | "client-gone"
  | "lifetime"
  | "token-expired"
  | "slow-consumer"
  | "write-stalled"
  | "upstream-error"
  | "shutdown"
  | "done";

export interface SseSessionOptions<T> {
  /** Its `onAbort` is the one notice that the client went away (a web stream also hears the request's signal). */
  stream: EventStream;
  /** Aborted when the process shuts down: the stream sends its final `id:` + `retry:` frame and ends ("shutdown"). */
  shutdown?: AbortSignal;
  heartbeatMs: number;
  /** Wall-clock ms after which the stream sends `retry:` and closes (bounds Workers subrequests, re-checks auth). */
  lifetimeMs: number;
  /** The reconnection delay sent with `retry:` on rotation and shutdown. */
  retryMs: number;
  /**
   * The stream's current position, repeated as `id:` in the rotation frame: EventSource keeps the last `id:`
   * it saw (even from a frame without data), so the reconnect resumes exactly there.
   */
  position?(): string | undefined;
  /** Epoch ms at which the stream closes without `retry:` (the token's `exp`). */
  closeAt?: number;
  /** Unsent items past this count close the stream: the client resumes from its cursor. */
  maxBacklog: number;
  /** Turns one queued item into frame text, or undefined to drop it (e.g. a duplicate of a replayed message). */
  render(item: T): string | undefined;
  /** Releases what the stream holds (the upstream subscription). Called exactly once, from whichever path ends first. */
  onEnd(reason: SseEndReason): void;
}

export interface SseSession<T> {
  /** Queues an item (a live message); wakes the writer. Ignored once the session ended. */
  push(item: T): void;
  /** Ends the stream: idempotent, safe from any callback. */
  end(reason: SseEndReason): void;
  /** Writes text now (replay frames before the live loop starts). */
  write(text: string): Promise<void>;
  /** Writes queued items, heartbeats and the final `retry:` until the stream ends; then ends the session. */
  run(): Promise<void>;
  readonly ended: boolean;
  readonly endReason: SseEndReason | undefined;
}

/**
 * How long one write may stay pending before the session ends ("write-stalled"), in heartbeat intervals. A
 * client that stops reading but keeps its connection open blocks the write on backpressure; without a bound the
 * loop would stop (no heartbeats, no rotation, no close at `exp`) and hold its subscription until a live message
 * overflowed the backlog, on a quiet channel never. Two intervals is what a client waits before it gives a silent
 * connection up, so a stall that long is a gone client; it resumes from its cursor.
 */
export const WRITE_STALL_HEARTBEATS = 2;

/** The `retry:` sent when a stream rotates or the process shuts down: reconnect soon, the cursor makes it lossless. */
export const ROTATION_RETRY_MS = 1000;

/** The session options every relay stream takes from the config. */
export function sessionLimits(
  config: RelayConfig,
  stream: EventStream,
  closeAt: number | undefined,
  shutdown?: AbortSignal,
) {
  return {
    stream,
    shutdown,
    heartbeatMs: config.heartbeatMs,
    lifetimeMs: config.sseMaxMs,
    retryMs: ROTATION_RETRY_MS,
    closeAt,
    maxBacklog: config.sseMaxBacklog,
  };
}

/**
 * The writer half of an SSE connection. Cleanup never depends on code after the loop (Workers cancels the
 * request's tasks after a disconnect): the stream's abort (the body cancelled, the request's signal, or on Node
 * the socket closing) ends the session, and `onEnd` runs once from whichever path ends it first. Heartbeats never touch Redis; they also surface a gone client,
 * which most runtimes only notice on the next write.
 */
export function createSseSession<T>(options: SseSessionOptions<T>): SseSession<T> {
  const { stream } = options;
  const queue: T[] = [];
  const rotateAt = Date.now() + options.lifetimeMs;
  let endReason: SseEndReason | undefined;
  let wake: (() => void) | undefined;
  /** When the next heartbeat is due: every write moves it. */
  let nextHeartbeat = Date.now() + options.heartbeatMs;
  /** The writer's one timer (see sleepUntil), declared before anything can end the session. */
  let alarm: ReturnType<typeof setTimeout> | undefined;
  let alarmAt = Number.POSITIVE_INFINITY;
  /** Set while a write waits on the client: ending then aborts the stream, which rejects the stuck write. */
  let writing = false;
  const stallMs = options.heartbeatMs * WRITE_STALL_HEARTBEATS;
  let shuttingDown = options.shutdown?.aborted ?? false;
  const onShutdown = () => {
    shuttingDown = true;
    wake?.();
  };
  options.shutdown?.addEventListener("abort", onShutdown);

  function end(reason: SseEndReason) {
    if (endReason !== undefined) return;
    endReason = reason;
    queue.length = 0;
    disarm();
    options.shutdown?.removeEventListener("abort", onShutdown);
    wake?.();
    try {
      options.onEnd(reason);
    } catch {
      // Cleanup must not throw into the runtime's abort path.
    }
    // A write may be stuck on backpressure; abort unsticks it (the client sees a cut and resumes).
    if (writing || reason === "slow-consumer" || reason === "upstream-error") stream.abort();
  }
  stream.onAbort(() => end("client-gone"));
  if (stream.aborted) end("client-gone");

  function live(): boolean {
    return endReason === undefined && !stream.aborted && !stream.closed;
  }

  /**
   * Writes text, bounded: the session ends if the write is still pending after the stall bound, at the token's
   * `exp` (token-expired) or at rotation time (lifetime; the client resumes from the last id it read).
   */
  async function write(text: string) {
    if (!live()) return;
    const pending = stream.write(text);
    // Accepted into the stream's buffer at once (the common case): no deadline to watch.
    if (pending === undefined) return;
    const now = Date.now();
    let at = now + stallMs;
    let reason: SseEndReason = "write-stalled";
    if (options.closeAt !== undefined && options.closeAt < at)
      [at, reason] = [options.closeAt, "token-expired"];
    if (rotateAt > now && rotateAt < at) [at, reason] = [rotateAt, "lifetime"];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(
        () => {
          end(reason);
          resolve();
        },
        Math.max(0, at - now),
      );
    });
    writing = true;
    try {
      await Promise.race([pending, expired]);
    } finally {
      writing = false;
      clearTimeout(timer);
    }
    if (stream.aborted) end("client-gone");
  }

  /**
   * One alarm per session, kept across wake-ups: a message wakes the loop without touching it, and an alarm that
   * fires before the (since moved) heartbeat only makes the loop sleep again. So a busy stream sets about two
   * timers per heartbeat interval, not two per message (timers are not free, in workerd least of all).
   */
  function ring() {
    alarm = undefined;
    alarmAt = Number.POSITIVE_INFINITY;
    wake?.();
  }
  function disarm() {
    if (alarm !== undefined) clearTimeout(alarm);
    alarm = undefined;
    alarmAt = Number.POSITIVE_INFINITY;
  }

  function sleepUntil(at: number): Promise<void> {
    return new Promise((resolve) => {
      wake = () => {
        wake = undefined;
        resolve();
      };
      if (alarmAt > at) {
        disarm();
        alarmAt = at;
        alarm = setTimeout(ring, Math.max(0, at - Date.now()));
      }
    });
  }

  /** One async function, not a loop awaited by a wrapper: an idle stream holds one suspended frame, not two. */
  async function run() {
    try {
      while (live()) {
        if (shuttingDown) {
          // Queued items are not lost: the position covers only what was sent, the client resumes from there.
          await write(resumeFrame());
          end("shutdown");
          return;
        }
        if (queue.length > 0) {
          const items = queue.splice(0, queue.length);
          let text = "";
          for (const item of items) text += options.render(item) ?? "";
          if (text) {
            await write(text);
            nextHeartbeat = Date.now() + options.heartbeatMs;
          }
          continue;
        }
        const now = Date.now();
        if (options.closeAt !== undefined && now >= options.closeAt) {
          end("token-expired");
          return;
        }
        if (now >= rotateAt) {
          await write(resumeFrame());
          end("lifetime");
          return;
        }
        if (now >= nextHeartbeat) {
          await write(KEEPALIVE_FRAME);
          nextHeartbeat = Date.now() + options.heartbeatMs;
          continue;
        }
        await sleepUntil(Math.min(nextHeartbeat, rotateAt, options.closeAt ?? Number.POSITIVE_INFINITY));
      }
    } finally {
      // Also when rendering or writing threw: the subscription is released on every way out.
      end(endReason ?? (stream.aborted ? "client-gone" : "done"));
      if (!stream.aborted) await stream.close();
    }
  }

  /** The last frame of a stream the client should resume: its position as `id:`, and `retry:`. */
  function resumeFrame(): string {
    return formatFrame({ id: options.position?.(), retry: options.retryMs });
  }

  return {
    push(item) {
      if (endReason !== undefined) return;
      // The writer sleeps with nothing queued and the runtime waits for bytes: write now, in order, without the
      // wake-up hop through the loop (most deliveries to a client that keeps up). The alarm still bounds the
      // stream's lifetime and token expiry; the heartbeat moves as after any write.
      if (wake !== undefined && queue.length === 0 && !shuttingDown && stream.waiting) {
        const text = options.render(item);
        if (text) {
          stream.write(text);
          nextHeartbeat = Date.now() + options.heartbeatMs;
        }
        return;
      }
      queue.push(item);
      if (queue.length > options.maxBacklog) {
        end("slow-consumer");
        return;
      }
      wake?.();
    },
    end,
    write,
    run,
    get ended() {
      return endReason !== undefined;
    },
    get endReason() {
      return endReason;
    },
  };
}
