import { describe, expect, it } from "vitest";
import { encodeCursor } from "../../../src/protocol/cursor.ts";
import { DeliveryLog, EpochOrder, PublishLedger, undelivered, verifyDeliveries } from "./ledger.ts";

const CH = "fault.t.0";
const id = (epoch: string, streamId: string, channel = CH) => encodeCursor({ channel, epoch, streamId });
const at = (epoch: string, streamId: string, channel = CH) => ({ channel, epoch, streamId });

/** seq n is stored at stream id `<1000 + n>-0` in the given epoch. */
function publish(ledger: PublishLedger, epoch: string, seqs: number[], channel = CH) {
  for (const seq of seqs) ledger.ack(seq, channel, id(epoch, `${1000 + seq}-0`, channel));
}
function receive(log: DeliveryLog, epoch: string, seqs: number[], channel = CH) {
  for (const seq of seqs) log.message(channel, id(epoch, `${1000 + seq}-0`, channel), seq);
}
function check(published: PublishLedger, log: DeliveryLog) {
  return verifyDeliveries(published, log, EpochOrder.of(published, [log]));
}

describe("the fault suite's delivery ledger", () => {
  it("passes a subscriber that got every acknowledged message once, in order", () => {
    const published = new PublishLedger();
    publish(published, "E1", [1, 2, 3]);
    const log = new DeliveryLog("sse-0", [CH]);
    receive(log, "E1", [1, 2, 3]);
    expect(check(published, log)).toEqual([]);
  });

  it("ignores channels the subscriber did not ask for, and accepts a delivered message never acknowledged", () => {
    const published = new PublishLedger();
    publish(published, "E1", [1, 3]);
    publish(published, "E1", [9], "fault.t.other");
    const log = new DeliveryLog("sse-0", [CH]);
    receive(log, "E1", [1, 2, 3]); // seq 2: the publisher gave up on it (outcome unknown), yet it was stored
    expect(check(published, log)).toEqual([]);
  });

  it("reports a message missing without a reset", () => {
    const published = new PublishLedger();
    publish(published, "E1", [1, 2, 3]);
    const log = new DeliveryLog("sse-0", [CH]);
    receive(log, "E1", [1, 3]);
    const problems = check(published, log);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/1 acknowledged message\(s\) never delivered.*seq 2 /);
  });

  it("reports duplicates and disorder", () => {
    const published = new PublishLedger();
    publish(published, "E1", [1, 2, 3]);
    const log = new DeliveryLog("sse-0", [CH]);
    receive(log, "E1", [1, 3, 2, 3]);
    const problems = check(published, log);
    expect(problems.some((line) => /1 message\(s\) delivered more than once.*seq 3 /.test(line))).toBe(true);
    expect(
      problems.some((line) => /1 message\(s\) delivered out of stream-id order.*seq 2 /.test(line)),
    ).toBe(true);
  });

  it("lets a reset excuse messages up to its point on its channel, and no further", () => {
    const published = new PublishLedger();
    publish(published, "E1", [1, 2, 3, 4, 5]);
    publish(published, "E1", [6], "fault.t.1");
    const log = new DeliveryLog("sse-0", [CH, "fault.t.1"]);
    receive(log, "E1", [1]);
    log.reset(at("E1", "1003-0")); // trimmed: 2 and 3 are gone
    receive(log, "E1", [5]);
    const missing = undelivered(published, log, EpochOrder.of(published, [log])).map((ack) => ack.seq);
    // 4 is after the reset point: still owed. 6 is on another channel: the reset says nothing about it.
    expect(missing).toEqual([4, 6]);
  });

  it("lets a reset into a new epoch excuse the older epoch only", () => {
    const published = new PublishLedger();
    publish(published, "E1", [1, 2, 3]);
    publish(published, "E2", [7, 8]); // Redis came back empty; stream ids go on growing with the clock
    const log = new DeliveryLog("sse-0", [CH]);
    receive(log, "E1", [1]);
    log.reset(at("E2", "1006-18446744073709551615")); // right before the oldest retained, 7
    receive(log, "E2", [8]);
    expect(undelivered(published, log, EpochOrder.of(published, [log])).map((ack) => ack.seq)).toEqual([7]);
  });

  it("lets a reset that found no history at all (epoch 0) excuse every epoch but the newest", () => {
    const published = new PublishLedger();
    publish(published, "E1", [1, 2, 3]);
    publish(published, "E2", [7, 8]);
    const log = new DeliveryLog("lp-0", [CH]);
    receive(log, "E1", [1]);
    log.reset(at("0", "0-0"));
    receive(log, "E2", [8]);
    expect(undelivered(published, log, EpochOrder.of(published, [log])).map((ack) => ack.seq)).toEqual([7]);
  });

  it("reports a message stored twice in one epoch (the Idempotency-Key did not hold), not across epochs", () => {
    const published = new PublishLedger();
    publish(published, "E1", [1]);
    published.ack(2, CH, id("E2", "1010-0"));
    const log = new DeliveryLog("sse-0", [CH]);
    log.message(CH, id("E1", "1001-0"), 1);
    log.message(CH, id("E1", "1002-0"), 2); // an earlier copy of 2, lost with Redis's data with its key
    log.message(CH, id("E1", "1003-0"), 1); // a second copy of 1 in the same epoch
    log.reset(at("E2", "1009-0"));
    log.message(CH, id("E2", "1010-0"), 2);
    const problems = check(published, log);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/1 message\(s\) stored twice for one Idempotency-Key.*seq 1:/);
  });

  it("records two different ids acknowledged for one sequence number", () => {
    const published = new PublishLedger();
    published.ack(1, CH, id("E1", "1001-0"));
    published.ack(1, CH, id("E1", "1001-0"));
    published.ack(1, CH, id("E1", "1005-0"));
    expect(published.conflicts).toHaveLength(1);
  });
});
