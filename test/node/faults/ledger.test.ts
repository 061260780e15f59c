import { describe, expect, it } from "vitest";
import { type Ack, type Delivery, missingAcks, type PublishLog, streamIdOf, verdict } from "./ledger.ts";

const id = (ms: number, n = 0, epoch = "E1") => `Y2g.${epoch}.${ms}-${n}`;
const ack = (seq: number, at: number, epoch = "E1"): Ack => ({
  seq,
  id: id(1000 + seq, 0, epoch),
  ackedAt: at,
});
const got = (seq: number, at = 0, epoch = "E1"): Delivery => ({
  kind: "message",
  id: id(1000 + seq, 0, epoch),
  seq,
  at,
});
const loss = (at: number): Delivery => ({ kind: "loss", at, detail: "reset" });

function logOf(acks: Ack[], ambiguous: number[] = [], extra: number[] = []): PublishLog {
  return {
    acks,
    attempted: new Set([...acks.map((a) => a.seq), ...extra]),
    ambiguous: new Set(ambiguous),
  };
}

describe("the fault ledger", () => {
  it("reads the stream-id part of a cursor", () => {
    expect(streamIdOf("b3Jk.Vx3k.1764374400512-18446744073709551615")).toEqual([
      1764374400512n,
      18446744073709551615n,
    ]);
    expect(() => streamIdOf("a~b")).toThrow(/cursor/);
  });

  it("passes a complete, ordered, once-only delivery", () => {
    const log = logOf([ack(1, 10), ack(2, 20), ack(3, 30)]);
    expect(verdict(log, [got(1), got(2), got(3)])).toEqual([]);
  });

  it("reports a message delivered twice", () => {
    const log = logOf([ack(1, 10), ack(2, 20)]);
    expect(verdict(log, [got(1), got(2), got(2)]).join("\n")).toMatch(/duplicate: message .*1002-0/);
  });

  it("reports messages out of stream-id order", () => {
    const log = logOf([ack(1, 10), ack(2, 20)]);
    expect(verdict(log, [got(2), got(1)]).join("\n")).toMatch(/out of order/);
  });

  it("reports an acknowledged message never delivered and not excused", () => {
    const log = logOf([ack(1, 10), ack(2, 20), ack(3, 30)]);
    expect(verdict(log, [got(1), got(3)])).toEqual([expect.stringMatching(/lost silently: seq 2 /)]);
  });

  it("a loss signal excuses what was acknowledged before it, never what came after", () => {
    const log = logOf([ack(1, 10), ack(2, 20), ack(3, 30), ack(4, 40)]);
    // The signal arrived at 25: seq 2 (acked at 20) is excused, seq 4 (acked at 40) is not.
    const deliveries = [got(1), loss(25), got(3)];
    expect(missingAcks(log, deliveries).map((a) => a.seq)).toEqual([4]);
    expect(verdict(log, deliveries)).toEqual([expect.stringMatching(/lost silently: seq 4 /)]);
  });

  it("a seq stored twice (its key lost with Redis) may come twice only across a loss signal", () => {
    // seq 2's first attempt was stored as E1 id then answered 504; Redis lost everything; the retry stored it in E2.
    const acks = [ack(1, 10), { seq: 2, id: id(2000, 0, "E2"), ackedAt: 60 }];
    const log = logOf(acks, [2]);
    const first: Delivery = { kind: "message", id: id(1002), seq: 2, at: 15 };
    const again: Delivery = { kind: "message", id: id(2000, 0, "E2"), seq: 2, at: 70 };
    expect(verdict(log, [got(1), first, loss(50), again])).toEqual([]);
    expect(verdict(log, [got(1), first, again]).join("\n")).toMatch(/no loss signal between/);
  });

  it("reports a delivery under another id than acknowledged when no attempt was ambiguous", () => {
    const log = logOf([{ seq: 1, id: id(5000), ackedAt: 10 }]);
    const wrong: Delivery = { kind: "message", id: id(4000), seq: 1, at: 5 };
    expect(verdict(log, [wrong, got(4000)]).join("\n")).toMatch(/phantom: seq 1/);
  });

  it("reports a delivered seq whose every attempt answered 503 (certainly not run)", () => {
    const log = logOf([ack(1, 10)], [], [2]);
    expect(verdict(log, [got(1), got(2)]).join("\n")).toMatch(/phantom: seq 2 .*503/);
  });

  it("accepts an unacknowledged but ambiguous publish that was stored, and rejects an unknown seq", () => {
    const log = logOf([ack(1, 10)], [2], [2]);
    expect(verdict(log, [got(1), got(2)])).toEqual([]);
    expect(verdict(log, [got(1), got(9)]).join("\n")).toMatch(/unknown: seq 9/);
  });
});
