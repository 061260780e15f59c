import type { Redis } from "@upstash/redis/cloudflare";
import {
  type ChannelPosition,
  compareStreamIds,
  decodeCursor,
  START_STREAM_ID,
} from "../../protocol/cursor.ts";
import { isChannelName } from "../../protocol/names.ts";
import { frameMessage, type LiveItem, type LiveMessage, parseLiveItem } from "../live/live-item.ts";
import { openUpstreamStream, type UpstreamEndpoint, type UpstreamStream } from "../live/upstream-stream.ts";
import { type HistoryRequest, type HistoryResult, readHistories } from "../redis/history.ts";
import { channelKeys, channelOfLiveChannel, livePattern } from "../redis/keys.ts";
import { precedingStreamId } from "../sse/positions.ts";
import { RecentMessages } from "./recent-messages.ts";

/** A relay channel, or a relay channel pattern (Redis glob). */
export type FeedSource = { channel: string; pattern?: undefined } | { pattern: string; channel?: undefined };

/** Someone served by a feed: an SSE stream's session, a long-poll waiter. */
export interface HubListener {
  /** A live item, in order, at most once per position; called synchronously: queue it, do not block. */
  deliver(item: LiveItem): void;
  /**
   * The feed lost messages it could not recover (the history read that should have filled the gap failed, or the
   * history itself is gone): end the stream, so the client resumes from its cursor (or gets `reset`). The
   * listener is removed before this is called.
   */
  fail(error: Error): void;
}

export interface FeedSettings {
  redis: Redis;
  upstream: UpstreamEndpoint;
  /** How often a live feed checks that the newest history entry reached it (the heartbeat interval). */
  checkIntervalMs: number;
  lingerMs: number;
  reopenDelayMs: { initial: number; max: number };
  readyTimeoutMs: number;
  /** The longest one history read may take before it counts as failed (a frozen Redis or endpoint). */
  readTimeoutMs: number;
  log(message: string): void;
}

/** Messages per channel per history round trip of a gap fill. */
const FILL_PAGE = 500;
/** Channels a pattern feed remembers positions for (most recently active first), and checks per interval. */
const MAX_PATTERN_CHANNELS = 256;

type State = "opening" | "live" | "reopening" | "closed";

/**
 * One upstream subscription (a channel or a pattern) shared by every listener in this process (docs/sse.md,
 * "The delivery hub"). Opened on construction; live once the upstream confirmed AND the feed knows where each
 * channel stands (a channel's "now" read once on open; after an interruption, the gap filled from history).
 * While a history read runs, live items are held back and delivered after it, deduplicated by position, so
 * listeners always see one ordered sequence. Closed `lingerMs` after its last listener left.
 */
export class ChannelFeed {
  private state: State = "opening";
  private readonly listeners = new Set<HubListener>();
  private upstream: UpstreamStream | undefined;
  /** Newest position delivered (or "now" as read on open), by channel; map order = least recently active first. */
  private readonly positions = new Map<string, ChannelPosition>();
  /** Per channel, the position up to which history was compared with what was delivered. */
  private readonly checkpoints = new Map<string, ChannelPosition>();
  /** Per channel, the stream ids delivered after its checkpoint (so a check can tell what never arrived). */
  private readonly deliveredSince = new Map<string, Set<string>>();
  /** Channel feeds: the newest messages, so long-poll waiters a little behind need no history read. */
  private readonly recent = new RecentMessages();
  private waiters: Array<{ resolve(): void; reject(error: Error): void }> = [];
  private held: LiveItem[] | undefined;
  private catchUpAgain = false;
  private everLive = false;
  private reopenDelay: number;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  private reopenTimer: ReturnType<typeof setTimeout> | undefined;
  private interruptedTimer: ReturnType<typeof setTimeout> | undefined;
  private checkTimer: ReturnType<typeof setInterval> | undefined;
  private checking = false;

  readonly source: FeedSource;
  private readonly settings: FeedSettings;
  private readonly onClosed: () => void;

  constructor(source: FeedSource, settings: FeedSettings, onClosed: () => void) {
    this.source = source;
    this.settings = settings;
    this.onClosed = onClosed;
    this.reopenDelay = settings.reopenDelayMs.initial;
    this.open();
  }

  get isLive(): boolean {
    return this.state === "live";
  }
  get listenerCount(): number {
    return this.listeners.size;
  }
  get hasUpstream(): boolean {
    return this.upstream !== undefined;
  }

  add(listener: HubListener): void {
    this.listeners.add(listener);
    if (this.lingerTimer !== undefined) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
  }

  remove(listener: HubListener): void {
    if (!this.listeners.delete(listener) || this.listeners.size > 0 || this.state === "closed") return;
    this.lingerTimer = unref(setTimeout(() => this.close(), this.settings.lingerMs));
  }

  /** Resolves once the feed is live (at once when it is); rejects when opening fails or takes too long. */
  whenLive(): Promise<void> {
    if (this.state === "live") return Promise.resolve();
    if (this.state === "closed") return Promise.reject(new Error("the live feed is closed"));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== entry);
        reject(new Error(`upstream subscribe not confirmed within ${this.settings.readyTimeoutMs} ms`));
      }, this.settings.readyTimeoutMs);
      const entry = {
        resolve() {
          clearTimeout(timer);
          resolve();
        },
        reject(error: Error) {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(entry);
    });
  }

  /** Where `channel` stands for this feed: the newest message it delivered, or "now" as read on open. */
  position(channel: string): ChannelPosition | undefined {
    return this.positions.get(channel);
  }

  /**
   * Channel feeds: the messages after `cursor` this feed holds ([] when `cursor` is where it stands), or
   * undefined when only history can say (docs/api.md, long-poll).
   */
  recentAfter(cursor: ChannelPosition, limit: number): LiveMessage[] | undefined {
    if (this.state !== "live" || cursor.channel !== this.source.channel) return undefined;
    return this.recent.after(cursor, limit);
  }

  /** A listener follows `position.channel` from there: a later gap fill covers it (pattern feeds). */
  track(position: ChannelPosition): void {
    if (this.positions.has(position.channel)) return;
    this.remember(position);
    this.checkpoints.set(position.channel, position);
  }

  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    for (const timer of [this.lingerTimer, this.reopenTimer, this.interruptedTimer]) clearTimeout(timer);
    clearInterval(this.checkTimer);
    this.upstream?.close();
    this.upstream = undefined;
    this.settle(new Error("the live feed closed"));
    this.onClosed();
  }

  private open(): void {
    const kind = this.source.channel !== undefined ? "channel" : "pattern";
    const name =
      this.source.channel !== undefined
        ? channelKeys(this.source.channel).live
        : livePattern(this.source.pattern);
    let confirmed = false;
    const upstream = openUpstreamStream(this.settings.upstream, kind, name, {
      onConfirmed: () => {
        if (this.upstream !== upstream) return;
        // The first confirmation opens (or reopens) the feed; a repeat says the endpoint lost its Redis
        // subscription and restored it: whatever was published in between is only in history.
        if (confirmed) this.settings.log(`live feed ${name}: subscription restored, filling from history`);
        confirmed = true;
        void this.catchUp();
      },
      onMessage: (message) => {
        if (this.upstream !== upstream) return;
        const channel = channelOfLiveChannel(message.channel);
        // A pattern like `*` also matches keys no relay channel can have: skip them.
        if (channel === null || !isChannelName(channel)) return;
        const item = parseLiveItem(channel, message.payload);
        if (item === null) return;
        if (this.held) this.held.push(item);
        else this.dispatch(item);
      },
      onEnd: (error) => {
        if (this.upstream !== upstream) return;
        this.upstream = undefined;
        this.interrupted(error);
      },
    });
    this.upstream = upstream;
  }

  /** The upstream ended or failed: reopen with backoff while listeners remain; end them if that takes too long. */
  private interrupted(error: Error): void {
    if (this.state === "closed") return;
    if (!this.everLive) {
      this.failAll(error);
      this.close();
      return;
    }
    if (this.listeners.size === 0) {
      this.close();
      return;
    }
    this.settings.log(`live feed ${this.describe()}: ${error.message}; reopening`);
    this.state = "reopening";
    this.interruptedTimer ??= unref(
      setTimeout(() => {
        this.interruptedTimer = undefined;
        if (this.state !== "live") {
          this.failAll(new Error(`the upstream subscription is still interrupted: ${error.message}`));
        }
      }, this.settings.checkIntervalMs),
    );
    const delay = this.reopenDelay;
    this.reopenDelay = Math.min(this.reopenDelay * 2, this.settings.reopenDelayMs.max);
    this.reopenTimer = unref(
      setTimeout(() => {
        this.reopenTimer = undefined;
        if (this.state === "closed") return;
        if (this.listeners.size === 0) this.close();
        else this.open();
      }, delay),
    );
  }

  /**
   * Brings the feed up to date from history, holding live items back meanwhile: on open, the channel's "now";
   * after an interruption or a restored subscription, everything after the last verified position. Then live.
   */
  private async catchUp(): Promise<void> {
    if (this.held) {
      this.catchUpAgain = true;
      return;
    }
    this.held = [];
    try {
      const channel = this.source.channel;
      if (channel !== undefined && !this.positions.has(channel)) {
        const [now] = await this.readHistories([{ channel, after: null, limit: 1 }]);
        if (now && !this.positions.has(channel)) {
          this.remember(now.position);
          this.checkpoints.set(channel, now.position);
          this.recent.restart(now.position);
        }
      } else {
        await this.verify();
      }
      if (this.state === "closed") return;
      // The upstream may have ended during the read: then its reopen catches up again.
      if (this.upstream) this.goLive();
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.settings.log(`live feed ${this.describe()}: catching up failed: ${failure.message}`);
      this.failAll(failure);
      // The feed goes on without the messages it failed to fill: until a check reads them, only history knows.
      this.recent.restart(undefined);
      if (!this.everLive) this.close();
      else if (this.state !== "closed" && this.upstream) this.goLive();
    } finally {
      const held = this.held ?? [];
      this.held = undefined;
      if (this.state !== "closed") for (const item of held) this.dispatch(item);
      if (this.catchUpAgain && this.state !== "closed") {
        this.catchUpAgain = false;
        void this.catchUp();
      }
    }
  }

  /**
   * Compares history after each channel's checkpoint (the last position verified) with what this feed delivered
   * since: a message past everything delivered is delivered now, in order (the gap fill); a message older than
   * one already delivered that never came (the upstream lost it and went on) cannot be delivered in order any
   * more, nor can a history that is gone: those end the listeners, who resume from their cursors. Then the
   * checkpoints move to where the read ended. One pipelined read per feed (more only for a long gap).
   */
  private async verify(): Promise<void> {
    let requests: HistoryRequest[] = [...this.checkpoints.values()]
      .slice(-MAX_PATTERN_CHANNELS)
      .map((after) => ({ channel: after.channel, after, limit: FILL_PAGE }));
    const lost: string[] = [];
    while (requests.length > 0 && this.state !== "closed") {
      const results = await this.readHistories(requests);
      const next: HistoryRequest[] = [];
      for (const result of results) {
        if (result.reset) {
          lost.push(`${result.channel} (history ${result.reset.reason})`);
          this.remember(result.position);
          if (result.channel === this.source.channel) this.recent.restart(result.position);
          this.advanceCheckpoint(result.position);
          continue;
        }
        for (const message of result.messages) {
          const position = decodeCursor(message.id);
          const last = this.positions.get(position.channel);
          if (
            last &&
            last.epoch === position.epoch &&
            compareStreamIds(position.streamId, last.streamId) <= 0
          ) {
            if (!this.deliveredSince.get(position.channel)?.has(position.streamId)) {
              lost.push(`${position.channel} (${position.streamId} never arrived live)`);
            }
          } else {
            this.dispatch(frameMessage(message, position));
          }
        }
        this.advanceCheckpoint(result.position);
        if (result.messages.length >= FILL_PAGE) {
          next.push({ channel: result.channel, after: result.position, limit: FILL_PAGE });
        }
      }
      requests = next;
    }
    if (lost.length > 0) {
      this.failAll(new Error(`live messages were lost upstream: ${lost.slice(0, 3).join(", ")}`));
    } else if (this.source.channel !== undefined && !this.recent.isKnown) {
      // History and the feed agree again: what follows is delivered in order from where the feed stands.
      this.recent.restart(this.positions.get(this.source.channel));
    }
  }

  /** The channel is verified up to `position`: forget the delivered ids at or before it. */
  private advanceCheckpoint(position: ChannelPosition): void {
    this.checkpoints.set(position.channel, position);
    const delivered = this.deliveredSince.get(position.channel);
    if (!delivered) return;
    for (const streamId of delivered) {
      if (compareStreamIds(streamId, position.streamId) <= 0) delivered.delete(streamId);
    }
  }

  private goLive(): void {
    this.state = "live";
    this.everLive = true;
    this.reopenDelay = this.settings.reopenDelayMs.initial;
    if (this.interruptedTimer !== undefined) {
      clearTimeout(this.interruptedTimer);
      this.interruptedTimer = undefined;
    }
    this.checkTimer ??= unref(setInterval(() => void this.check(), this.settings.checkIntervalMs));
    this.settle();
  }

  /**
   * About once per interval: did every message stored since the last check reach this feed? Not every endpoint
   * says that it lost and restored a subscription, so this read is what catches a silent loss. One pipelined
   * read per feed and interval, none per listener.
   */
  private async check(): Promise<void> {
    if (this.state !== "live" || this.held || this.checking || this.listeners.size === 0) return;
    this.checking = true;
    try {
      await this.verify();
    } catch (error) {
      // Redis unreachable for one check: the next one tries again from the same checkpoints.
      this.settings.log(`live feed ${this.describe()}: check failed: ${String(error)}`);
    } finally {
      this.checking = false;
    }
  }

  /** Hands one item to every listener, once per position: a fill and the live feed may both carry it. */
  private dispatch(item: LiveItem): void {
    if (item.kind === "message") {
      const { position } = item;
      const last = this.positions.get(position.channel);
      if (last && last.epoch === position.epoch && compareStreamIds(position.streamId, last.streamId) <= 0)
        return;
      this.remember(position);
      let delivered = this.deliveredSince.get(position.channel);
      if (!delivered) {
        delivered = new Set();
        this.deliveredSince.set(position.channel, delivered);
      }
      delivered.add(position.streamId);
      if (position.channel === this.source.channel) this.recent.push(item);
      if (!this.checkpoints.has(position.channel)) {
        // First sight of a channel (pattern feeds): verified from right before this message on.
        this.checkpoints.set(position.channel, {
          ...position,
          streamId: precedingStreamId(position.streamId),
        });
      }
    } else {
      const last = this.positions.get(item.channel);
      if (last?.epoch === item.epoch) return;
      const start = { channel: item.channel, epoch: item.epoch, streamId: START_STREAM_ID };
      this.remember(start);
      this.deliveredSince.delete(item.channel);
      this.checkpoints.set(item.channel, start);
      if (item.channel === this.source.channel) this.recent.restart(start);
    }
    for (const listener of this.listeners) {
      try {
        listener.deliver(item);
      } catch (error) {
        this.settings.log(`live feed ${this.describe()}: a listener threw: ${String(error)}`);
      }
    }
  }

  private remember(position: ChannelPosition): void {
    this.positions.delete(position.channel);
    this.positions.set(position.channel, position);
    if (this.positions.size <= MAX_PATTERN_CHANNELS) return;
    for (const channel of this.positions.keys()) {
      if (this.positions.size <= MAX_PATTERN_CHANNELS) break;
      if (channel === this.source.channel) continue;
      this.positions.delete(channel);
      this.checkpoints.delete(channel);
      this.deliveredSince.delete(channel);
    }
  }

  /**
   * One pipelined history read, bounded by `readTimeoutMs`: a frozen Redis or endpoint fails it (and so the
   * listeners, who resume from their cursors) instead of holding the feed back for ever.
   */
  private readHistories(requests: HistoryRequest[]): Promise<HistoryResult[]> {
    const { readTimeoutMs } = this.settings;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = unref(
        setTimeout(
          () => reject(new Error(`a history read took longer than ${readTimeoutMs} ms`)),
          readTimeoutMs,
        ),
      );
    });
    return Promise.race([readHistories(this.settings.redis, requests), timeout]).finally(() =>
      clearTimeout(timer),
    );
  }

  private failAll(error: Error): void {
    // What was lost is lost for every waiter: the record of recent messages starts again where the feed stands.
    const channel = this.source.channel;
    if (channel !== undefined) this.recent.restart(this.positions.get(channel));
    const failed = [...this.listeners];
    this.listeners.clear();
    this.settle(error);
    for (const listener of failed) {
      try {
        listener.fail(error);
      } catch {
        // a listener's cleanup must not stop the others'
      }
    }
    if (this.state !== "closed" && this.lingerTimer === undefined) {
      this.lingerTimer = unref(setTimeout(() => this.close(), this.settings.lingerMs));
    }
  }

  /** Resolves (no error) or rejects everyone waiting for the feed to be live. */
  private settle(error?: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  private describe(): string {
    return this.source.channel !== undefined
      ? `channel ${this.source.channel}`
      : `pattern ${this.source.pattern}`;
  }
}

/** Node keeps the process alive for a pending timer; the hub's own timers must not. */
function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
