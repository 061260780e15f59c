/**
 * The bookkeeping of a fault scenario and its verdict: what the publisher got acknowledged, what each subscriber
 * received (messages and loss signals, in arrival order), and the rules of docs/sse.md ("What a client sees under
 * faults") checked against them. Pure: no I/O, unit-tested in ledger.test.ts.
 */

/** A publish the relay acknowledged (201, or 200 for a retry with the same Idempotency-Key). */
export interface Ack {
  seq: number;
  /** The message's cursor from the answer. */
  id: string;
  /** Date.now() when the acknowledgement arrived. */
  ackedAt: number;
}

/** What the publisher knows after the run. */
export interface PublishLog {
  acks: Ack[];
  /** Every seq it sent at least once (acknowledged or not). */
  attempted: Set<number>;
  /**
   * Seqs with an attempt whose outcome is unknown (504 or a network error): such an attempt may have been stored
   * under its own id, and after a Redis that lost its keys (and so the Idempotency-Key) a retry stores it again.
   */
  ambiguous: Set<number>;
}

export type Delivery =
  | { kind: "message"; id: string; seq: number; at: number }
  /** `event: reset` (SSE) or `gap: true` (long-poll): continuity was lost, and said so. */
  | { kind: "loss"; at: number; detail: string };

/** The stream-id part of a cursor (`<channel>.<epoch>.<ms>-<n>`) as a comparable pair. */
export function streamIdOf(cursor: string): [bigint, bigint] {
  const [, ms, n] = /\.(\d+)-(\d+)$/.exec(cursor) ?? [];
  if (ms === undefined || n === undefined) throw new Error(`not a single-channel cursor: ${cursor}`);
  return [BigInt(ms), BigInt(n)];
}

function isAfter(a: [bigint, bigint], b: [bigint, bigint]): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

/**
 * Acknowledged messages the subscriber neither received nor may miss. A loss signal excuses only messages
 * acknowledged before it arrived; anything acknowledged later must come.
 */
export function missingAcks(log: PublishLog, deliveries: Delivery[]): Ack[] {
  const received = new Set<string>();
  let lastLossAt = Number.NEGATIVE_INFINITY;
  for (const delivery of deliveries) {
    if (delivery.kind === "message") received.add(delivery.id);
    else lastLossAt = Math.max(lastLossAt, delivery.at);
  }
  return log.acks.filter((ack) => !received.has(ack.id) && ack.ackedAt > lastLossAt);
}

/** Every rule one subscriber's record breaks, as readable lines (empty: it passed). */
export function verdict(log: PublishLog, deliveries: Delivery[]): string[] {
  const problems: string[] = [];
  const ackBySeq = new Map(log.acks.map((ack) => [ack.seq, ack]));
  const seenIds = new Set<string>();
  /** seq → its last delivery and how many loss signals had arrived by then */
  const lastSeenSeq = new Map<number, { id: string; lossesBefore: number }>();
  let previous: { id: string; at: [bigint, bigint] } | undefined;
  let losses = 0;
  for (const delivery of deliveries) {
    if (delivery.kind === "loss") {
      losses++;
      continue;
    }
    const { id, seq } = delivery;
    if (seenIds.has(id)) problems.push(`duplicate: message ${id} (seq ${seq}) delivered twice`);
    seenIds.add(id);
    const at = streamIdOf(id);
    if (previous && !isAfter(at, previous.at))
      problems.push(`out of order: ${id} (seq ${seq}) after ${previous.id}`);
    previous = { id, at };
    if (!log.attempted.has(seq)) problems.push(`unknown: seq ${seq} (${id}) was never published`);
    const ack = ackBySeq.get(seq);
    if (ack && ack.id !== id && !log.ambiguous.has(seq))
      problems.push(
        `phantom: seq ${seq} delivered as ${id}, acknowledged as ${ack.id}, no ambiguous attempt`,
      );
    if (!ack && log.attempted.has(seq) && !log.ambiguous.has(seq))
      problems.push(`phantom: seq ${seq} delivered as ${id}, though every attempt answered 503 (not run)`);
    const earlier = lastSeenSeq.get(seq);
    if (earlier && earlier.id !== id && earlier.lossesBefore === losses)
      problems.push(`duplicate: seq ${seq} delivered as ${earlier.id} and ${id} with no loss signal between`);
    lastSeenSeq.set(seq, { id, lossesBefore: losses });
  }
  for (const ack of missingAcks(log, deliveries))
    problems.push(`lost silently: seq ${ack.seq} (${ack.id}), acknowledged and never delivered or excused`);
  return problems;
}
