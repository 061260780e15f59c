import {
  type ChannelPosition,
  compareStreamIds,
  decodeCursor,
  EMPTY_EPOCH,
} from "../../../src/protocol/cursor.ts";

/**
 * The suite's bookkeeping: what the publisher got acknowledged, what each subscriber received, and the check
 * that ties them: every acknowledged message delivered exactly once, in stream-id order, unless a reset (SSE)
 * or a gap (long-poll) said it was lost.
 *
 * Order: Redis stream ids (`XADD *`) grow with the clock, also across a Redis restart that lost the data (the new
 * stream starts at the current time), so stream ids order a channel's messages across epochs too.
 */

/** A publish answered 201/200 with an id. */
export interface Ack {
  seq: number;
  channel: string;
  /** The message's cursor `<channel>.<epoch>.<stream id>`. */
  id: string;
}

/** What the publishers got back. */
export class PublishLedger {
  readonly #acks = new Map<number, Ack>();
  /** A second answer for a sequence number with another id: the relay stored it twice (same key, two ids). */
  readonly conflicts: string[] = [];

  ack(seq: number, channel: string, id: string): void {
    const known = this.#acks.get(seq);
    if (known && known.id !== id) {
      this.conflicts.push(`seq ${seq} was acknowledged twice with different ids: ${known.id} then ${id}`);
      return;
    }
    this.#acks.set(seq, { seq, channel, id });
  }

  get(seq: number): Ack | undefined {
    return this.#acks.get(seq);
  }

  acks(): Ack[] {
    return [...this.#acks.values()];
  }
}

export type DeliveryEntry =
  | { kind: "message"; channel: string; id: string; seq: number }
  /** Continuity lost on `channel`: everything up to `position` (inclusive) may be missing. */
  | { kind: "reset"; position: ChannelPosition };

/** What one subscriber (an SSE stream across its reconnects, or a long-poll loop) received, in order. */
export class DeliveryLog {
  readonly name: string;
  readonly channels: ReadonlySet<string>;
  readonly entries: DeliveryEntry[] = [];
  readonly #delivered = new Set<string>();

  constructor(name: string, channels: Iterable<string>) {
    this.name = name;
    this.channels = new Set(channels);
  }

  message(channel: string, id: string, seq: number): void {
    this.entries.push({ kind: "message", channel, id, seq });
    this.#delivered.add(id);
  }

  /** An `event: reset` (its `id:` position for the channel) or a long-poll page with `gap: true`. */
  reset(position: ChannelPosition): void {
    this.entries.push({ kind: "reset", position });
  }

  has(id: string): boolean {
    return this.#delivered.has(id);
  }

  resets(): ChannelPosition[] {
    return this.entries.flatMap((entry) => (entry.kind === "reset" ? [entry.position] : []));
  }
}

/**
 * Whether a reset at `point` covers the loss of `message` on the same channel: the message precedes the point.
 * - Same epoch: its stream id is at or before the point's.
 * - Another epoch: that epoch is older than the point's (its first known message came earlier), i.e. the data
 *   was lost with it.
 * - A point in epoch "0" (the read found no history at all, e.g. Redis came back empty): every epoch but the
 *   channel's newest is gone. The newest was created after that read (else the read would have named it), so
 *   its messages must still arrive.
 */
export function excuses(point: ChannelPosition, message: ChannelPosition, epochs: EpochOrder): boolean {
  if (point.channel !== message.channel) return false;
  if (point.epoch === EMPTY_EPOCH) return message.epoch !== epochs.newest(message.channel);
  if (message.epoch === point.epoch) return compareStreamIds(message.streamId, point.streamId) <= 0;
  const first = epochs.firstStreamId(point.channel, point.epoch);
  return first === undefined || compareStreamIds(message.streamId, first) < 0;
}

/** When each epoch of a channel began, as far as the known message ids tell. */
export class EpochOrder {
  readonly #first = new Map<string, Map<string, string>>();

  static of(published: PublishLedger, logs: readonly DeliveryLog[]): EpochOrder {
    const order = new EpochOrder();
    for (const ack of published.acks()) order.add(decodeCursor(ack.id));
    for (const log of logs)
      for (const entry of log.entries) if (entry.kind === "message") order.add(decodeCursor(entry.id));
    return order;
  }

  add(position: ChannelPosition): void {
    let epochs = this.#first.get(position.channel);
    if (!epochs) {
      epochs = new Map();
      this.#first.set(position.channel, epochs);
    }
    const known = epochs.get(position.epoch);
    if (known === undefined || compareStreamIds(position.streamId, known) < 0)
      epochs.set(position.epoch, position.streamId);
  }

  firstStreamId(channel: string, epoch: string): string | undefined {
    return this.#first.get(channel)?.get(epoch);
  }

  newest(channel: string): string | undefined {
    let newest: [string, string] | undefined;
    for (const entry of this.#first.get(channel) ?? []) {
      if (!newest || compareStreamIds(entry[1], newest[1]) > 0) newest = entry;
    }
    return newest?.[0];
  }
}

/** Acknowledged messages on the log's channels that it neither received nor had excused by a reset. */
export function undelivered(published: PublishLedger, log: DeliveryLog, epochs: EpochOrder): Ack[] {
  const resets = log.resets();
  return published.acks().filter((ack) => {
    if (!log.channels.has(ack.channel) || log.has(ack.id)) return false;
    const position = decodeCursor(ack.id);
    return !resets.some((reset) => excuses(reset, position, epochs));
  });
}

/** Everything wrong with one subscriber's deliveries, one line per kind of fault (empty when all is well). */
export function verifyDeliveries(published: PublishLedger, log: DeliveryLog, epochs: EpochOrder): string[] {
  const problems: string[] = [];
  const report = (what: string, cases: string[]) => {
    if (cases.length > 0)
      problems.push(`${log.name}: ${cases.length} ${what} (first: ${cases.slice(0, 3).join("; ")})`);
  };
  const twice: string[] = [];
  const disorder: string[] = [];
  const duplicatedPublish: string[] = [];
  const misrouted: string[] = [];
  const last = new Map<string, string>();
  const seen = new Set<string>();
  for (const entry of log.entries) {
    if (entry.kind !== "message") continue;
    const { channel, id, seq } = entry;
    const { streamId } = decodeCursor(id);
    if (seen.has(id)) twice.push(`seq ${seq} ${id}`);
    else {
      const previous = last.get(channel);
      if (previous !== undefined && compareStreamIds(streamId, previous) <= 0)
        disorder.push(`seq ${seq} ${streamId} after ${previous} on ${channel}`);
    }
    seen.add(id);
    if (!last.has(channel) || compareStreamIds(streamId, last.get(channel) as string) > 0)
      last.set(channel, streamId);
    if (!log.channels.has(channel)) misrouted.push(`seq ${seq} on ${channel}`);
    const ack = published.get(seq);
    if (ack && ack.channel !== channel)
      misrouted.push(`seq ${seq} published on ${ack.channel}, got on ${channel}`);
    else if (ack && ack.id !== id && decodeCursor(ack.id).epoch === decodeCursor(id).epoch)
      // Another epoch would be a copy stored before Redis lost the data (and the Idempotency-Key with it).
      duplicatedPublish.push(`seq ${seq}: acknowledged ${ack.id}, also stored as ${id}`);
  }
  report("message(s) delivered more than once", twice);
  report("message(s) delivered out of stream-id order", disorder);
  report("message(s) stored twice for one Idempotency-Key", duplicatedPublish);
  report("message(s) on a channel the subscriber did not ask for", misrouted);
  const missing = undelivered(published, log, epochs).map((ack) => `seq ${ack.seq} ${ack.id}`);
  report("acknowledged message(s) never delivered and not covered by a reset or gap", missing);
  return problems;
}
