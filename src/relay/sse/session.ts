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
 * the socket closing) ends the session, and `onEnd` runs once from whichever path ends it first. Heartbeats
 * never touch Redis; they also surface a gone client, which most runtimes only notice on the next write.
 */
export function createSseSession<T>(options: SseSessionOptions<T>): SseSession<T> {
  return new Session(options);
}

/**
 * A class rather than closures: a session lives as long as its stream, and a thousand open streams then share
 * their methods instead of each holding a dozen closures and the context they capture (docs/benchmarks.md,
 * "Memory per open stream on Node").
 */
class Session<T> implements SseSession<T> {
  readonly #options: SseSessionOptions<T>;
  readonly #stream: EventStream;
  readonly #queue: T[] = [];
  readonly #rotateAt: number;
  readonly #stallMs: number;
  #endReason: SseEndReason | undefined;
  /** Resolves the writer's sleep (see #sleepUntil); set only while it sleeps. */
  #wake: (() => void) | undefined;
  /** When the next heartbeat is due: every write moves it. */
  #nextHeartbeat: number;
  /** The writer's one timer (see #sleepUntil). */
  #alarm: ReturnType<typeof setTimeout> | undefined;
  #alarmAt = Number.POSITIVE_INFINITY;
  /** Set while a write waits on the client: ending then aborts the stream, which rejects the stuck write. */
  #writing = false;
  #shuttingDown: boolean;
  readonly #onShutdown = () => {
    this.#shuttingDown = true;
    this.#wakeUp();
  };

  constructor(options: SseSessionOptions<T>) {
    this.#options = options;
    this.#stream = options.stream;
    const now = Date.now();
    this.#rotateAt = now + options.lifetimeMs;
    this.#nextHeartbeat = now + options.heartbeatMs;
    this.#stallMs = options.heartbeatMs * WRITE_STALL_HEARTBEATS;
    this.#shuttingDown = options.shutdown?.aborted ?? false;
    options.shutdown?.addEventListener("abort", this.#onShutdown);
    this.#stream.onAbort(() => this.end("client-gone"));
    if (this.#stream.aborted) this.end("client-gone");
  }

  get ended() {
    return this.#endReason !== undefined;
  }
  get endReason() {
    return this.#endReason;
  }

  push(item: T) {
    if (this.#endReason !== undefined) return;
    // The writer sleeps with nothing queued and the runtime waits for bytes: write now, in order, without the
    // wake-up hop through the loop (most deliveries to a client that keeps up). The alarm still bounds the
    // stream's lifetime and token expiry; the heartbeat moves as after any write.
    if (this.#wake !== undefined && this.#queue.length === 0 && !this.#shuttingDown && this.#stream.waiting) {
      const text = this.#options.render(item);
      if (text) {
        this.#stream.write(text);
        this.#nextHeartbeat = Date.now() + this.#options.heartbeatMs;
      }
      return;
    }
    this.#queue.push(item);
    if (this.#queue.length > this.#options.maxBacklog) {
      this.end("slow-consumer");
      return;
    }
    this.#wakeUp();
  }

  end(reason: SseEndReason) {
    if (this.#endReason !== undefined) return;
    this.#endReason = reason;
    this.#queue.length = 0;
    this.#disarm();
    this.#options.shutdown?.removeEventListener("abort", this.#onShutdown);
    this.#wakeUp();
    try {
      this.#options.onEnd(reason);
    } catch {
      // Cleanup must not throw into the runtime's abort path.
    }
    // A write may be stuck on backpressure; abort unsticks it (the client sees a cut and resumes).
    if (this.#writing || reason === "slow-consumer" || reason === "upstream-error") this.#stream.abort();
  }

  /**
   * Writes text, bounded: the session ends if the write is still pending after the stall bound, at the token's
   * `exp` (token-expired) or at rotation time (lifetime; the client resumes from the last id it read).
   */
  async write(text: string) {
    if (!this.#live()) return;
    const pending = this.#stream.write(text);
    // Accepted into the stream's buffer at once (the common case): no deadline to watch.
    if (pending === undefined) return;
    const { closeAt } = this.#options;
    const now = Date.now();
    let at = now + this.#stallMs;
    let reason: SseEndReason = "write-stalled";
    if (closeAt !== undefined && closeAt < at) [at, reason] = [closeAt, "token-expired"];
    if (this.#rotateAt > now && this.#rotateAt < at) [at, reason] = [this.#rotateAt, "lifetime"];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(
        () => {
          this.end(reason);
          resolve();
        },
        Math.max(0, at - now),
      );
    });
    this.#writing = true;
    try {
      await Promise.race([pending, expired]);
    } finally {
      this.#writing = false;
      clearTimeout(timer);
    }
    if (this.#stream.aborted) this.end("client-gone");
  }

  /** Writes queued items, heartbeats and the final `retry:` until the stream ends; one suspended frame at rest. */
  async run() {
    const options = this.#options;
    try {
      while (this.#live()) {
        if (this.#shuttingDown) {
          // Queued items are not lost: the position covers only what was sent, the client resumes from there.
          await this.write(this.#resumeFrame());
          this.end("shutdown");
          return;
        }
        if (this.#queue.length > 0) {
          const items = this.#queue.splice(0, this.#queue.length);
          let text = "";
          for (const item of items) text += options.render(item) ?? "";
          if (text) {
            await this.write(text);
            this.#nextHeartbeat = Date.now() + options.heartbeatMs;
          }
          continue;
        }
        const now = Date.now();
        if (options.closeAt !== undefined && now >= options.closeAt) {
          this.end("token-expired");
          return;
        }
        if (now >= this.#rotateAt) {
          await this.write(this.#resumeFrame());
          this.end("lifetime");
          return;
        }
        if (now >= this.#nextHeartbeat) {
          await this.write(KEEPALIVE_FRAME);
          this.#nextHeartbeat = Date.now() + options.heartbeatMs;
          continue;
        }
        await this.#sleepUntil(
          Math.min(this.#nextHeartbeat, this.#rotateAt, options.closeAt ?? Number.POSITIVE_INFINITY),
        );
      }
    } finally {
      // Also when rendering or writing threw: the subscription is released on every way out.
      this.end(this.#endReason ?? (this.#stream.aborted ? "client-gone" : "done"));
      if (!this.#stream.aborted) this.#stream.close();
    }
  }

  #live(): boolean {
    return this.#endReason === undefined && !this.#stream.aborted && !this.#stream.closed;
  }

  #wakeUp() {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * One alarm per session, kept across wake-ups: a message wakes the loop without touching it, and an alarm that
   * fires before the (since moved) heartbeat only makes the loop sleep again. So a busy stream sets about two
   * timers per heartbeat interval, not two per message (timers are not free, in workerd least of all).
   */
  #sleepUntil(at: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      if (this.#alarmAt > at) {
        this.#disarm();
        this.#alarmAt = at;
        this.#alarm = setTimeout(() => this.#ring(), Math.max(0, at - Date.now()));
      }
    });
  }
  #ring() {
    this.#alarm = undefined;
    this.#alarmAt = Number.POSITIVE_INFINITY;
    this.#wakeUp();
  }
  #disarm() {
    if (this.#alarm !== undefined) clearTimeout(this.#alarm);
    this.#alarm = undefined;
    this.#alarmAt = Number.POSITIVE_INFINITY;
  }

  /** The last frame of a stream the client should resume: its position as `id:`, and `retry:`. */
  #resumeFrame(): string {
    return formatFrame({ id: this.#options.position?.(), retry: this.#options.retryMs });
  }
}
