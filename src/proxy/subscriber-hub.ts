import type { Redis } from "ioredis";
import { closeConnection, RedisUnavailableError, whenReady } from "./redis-connection.ts";
import { streamFrame } from "./stream-frame.ts";

export type SubscriptionKind = "channel" | "pattern";

/** Receives ready-built stream frames for what it subscribed to. */
export interface SubscriptionListener {
  deliver(frame: Buffer): void;
  /** The subscription was restored after Redis came back (messages in between are lost). */
  resubscribed(kind: SubscriptionKind, name: string): void;
}

interface Entry {
  listeners: Set<SubscriptionListener>;
  /** Settles when Redis confirmed the SUBSCRIBE/PSUBSCRIBE this entry was created with. */
  confirmed: Promise<void>;
  /** Set while a reconnect's SUBSCRIBE is in flight: listeners are told it was restored before any message. */
  restoring?: boolean;
}

/**
 * All subscribe streams of one Redis share this one subscriber connection. Each channel and pattern is
 * subscribed once, on its first listener, and unsubscribed when its last listener leaves (reference
 * counting), so a thousand streams on one channel cost one Redis subscription. A message is framed once
 * and the same bytes are written to every listener.
 *
 * After a reconnect every channel and pattern that still has listeners is subscribed again.
 */
export class SubscriberHub {
  private readonly connection: Redis;
  private readonly entries: Record<SubscriptionKind, Map<string, Entry>> = {
    channel: new Map(),
    pattern: new Map(),
  };
  private readonly log: (line: string) => void;
  private readonly label: string;
  private lastError = "not connected yet";
  private closed = false;

  constructor(connection: Redis, log: (line: string) => void, label: string) {
    this.connection = connection;
    this.log = log;
    this.label = label;
    connection.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      const name = channel.toString();
      const entry = this.entries.channel.get(name);
      if (!entry) return;
      this.announceRestored("channel", name, entry);
      fanOut(entry, streamFrame(["message", channel, message]));
    });
    connection.on("pmessageBuffer", (pattern: Buffer, channel: Buffer, message: Buffer) => {
      const name = pattern.toString();
      const entry = this.entries.pattern.get(name);
      if (!entry) return;
      this.announceRestored("pattern", name, entry);
      fanOut(entry, streamFrame(["pmessage", pattern, channel, message]));
    });
    connection.on("error", (error: Error) => {
      this.lastError = error.message;
    });
    let connectedBefore = false;
    connection.on("ready", () => {
      if (connectedBefore) this.restore();
      connectedBefore = true;
    });
  }

  connect(): void {
    if (this.connection.status === "wait") this.connection.connect().catch(() => {});
  }

  /**
   * Adds a listener and resolves once Redis has confirmed the subscription, so anything published after
   * that reaches the listener. Returns the release function (idempotent): the last release unsubscribes.
   */
  async subscribe(kind: SubscriptionKind, name: string, listener: SubscriptionListener, readyWaitMs: number) {
    if (this.closed) throw new RedisUnavailableError("the proxy is shutting down");
    const entries = this.entries[kind];
    let entry = entries.get(name);
    // An existing entry's confirmation is stale while the connection is down (Redis forgot every subscription):
    // wait until the reconnect has sent it again, so the stream is confirmed only once Redis has it.
    if (!entry || this.connection.status !== "ready") {
      await whenReady(this.connection, readyWaitMs, () => `${this.label} (${this.lastError})`);
      entry = entries.get(name); // another stream may have created it while we waited
    }
    if (!entry) {
      const confirmed = this.send(kind, name).then(() => undefined);
      entry = { listeners: new Set(), confirmed };
      entries.set(name, entry);
      confirmed.catch(() => {
        if (entries.get(name) === entry && entry?.listeners.size === 0) entries.delete(name);
      });
    }
    entry.listeners.add(listener);
    const current = entry;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.release(kind, name, current, listener);
    };
    try {
      await current.confirmed;
    } catch (error) {
      release();
      throw new RedisUnavailableError(
        `could not subscribe to ${kind} "${name}": ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return release;
  }

  private release(kind: SubscriptionKind, name: string, entry: Entry, listener: SubscriptionListener): void {
    entry.listeners.delete(listener);
    if (entry.listeners.size > 0 || this.entries[kind].get(name) !== entry) return;
    this.entries[kind].delete(name);
    if (this.connection.status !== "ready") return; // a reconnect only restores live entries
    const unsubscribe =
      kind === "channel" ? this.connection.unsubscribe(name) : this.connection.punsubscribe(name);
    unsubscribe.catch(() => {}); // connection lost: nothing is subscribed any more anyway
  }

  private send(kind: SubscriptionKind, name: string): Promise<unknown> {
    return kind === "channel" ? this.connection.subscribe(name) : this.connection.psubscribe(name);
  }

  /** Subscribes again to everything that has listeners, then tells each listener. */
  private restore(): void {
    for (const kind of ["channel", "pattern"] as const) {
      for (const [name, entry] of this.entries[kind]) {
        const confirmed = this.send(kind, name).then(() => undefined);
        entry.confirmed = confirmed;
        entry.restoring = true;
        confirmed.then(
          () => this.announceRestored(kind, name, entry),
          (error: unknown) =>
            this.log(`proxy: could not restore ${kind} "${name}" on ${this.label}: ${String(error)}`),
        );
      }
    }
  }

  /**
   * Tells each listener once that the subscription was restored. The SUBSCRIBE reply resolves its promise a
   * microtask after ioredis parsed it, so messages in the same read would otherwise be written first: a reader
   * filling the gap from history must know of the gap before the first message after it.
   */
  private announceRestored(kind: SubscriptionKind, name: string, entry: Entry): void {
    if (!entry.restoring) return;
    entry.restoring = false;
    for (const listener of entry.listeners) listener.resubscribed(kind, name);
  }

  /** Distinct channels and patterns subscribed on Redis, and listeners across them. */
  stats(): { channels: number; patterns: number; listeners: number } {
    let listeners = 0;
    for (const map of Object.values(this.entries))
      for (const entry of map.values()) listeners += entry.listeners.size;
    return { channels: this.entries.channel.size, patterns: this.entries.pattern.size, listeners };
  }

  get status(): string {
    return this.connection.status;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.entries.channel.clear();
    this.entries.pattern.clear();
    await closeConnection(this.connection);
  }
}

function fanOut(entry: Entry, frame: Buffer): void {
  for (const listener of entry.listeners) listener.deliver(frame);
}
