import { describe, expect, it } from "vitest";
import { decodeCompoundCursor, decodeCursor, MAX_COMPOUND_POSITIONS } from "../../protocol/cursor.ts";
import { createStreamPositions, precedingStreamId } from "./positions.ts";

const at = (channel: string, epoch: string, streamId: string) => ({ channel, epoch, streamId });

describe("stream positions", () => {
  it("drops what was sent and accepts what is newer, per channel", () => {
    const positions = createStreamPositions(false, new Set(["a", "b"]));
    positions.advance(at("a", "E", "10-0"));
    expect(positions.isNew(at("a", "E", "10-0"))).toBe(false);
    expect(positions.isNew(at("a", "E", "9-5"))).toBe(false);
    expect(positions.isNew(at("a", "E", "10-1"))).toBe(true);
    expect(positions.isNew(at("b", "E", "1-0"))).toBe(true);
  });
  it("treats another epoch, or a start before any history, as new", () => {
    const positions = createStreamPositions(true, new Set(["a"]));
    positions.advance(at("a", "0", "0-0"));
    expect(positions.isNew(at("a", "E", "1-0"))).toBe(true);
    positions.advance(at("a", "E", "5-0"));
    expect(positions.isNew(at("a", "F", "1-0"))).toBe(true);
  });
  it("one-channel streams use the single cursor, others a compound one covering every channel", () => {
    const single = createStreamPositions(true, new Set(["a"]));
    single.advance(at("a", "E", "5-0"));
    expect(decodeCursor(single.eventId() as string)).toEqual(at("a", "E", "5-0"));
    const many = createStreamPositions(false, new Set(["a", "b"]));
    expect(many.eventId()).toBeUndefined();
    many.advance(at("a", "E", "5-0"));
    many.advance(at("b", "0", "0-0"));
    expect([...decodeCompoundCursor(many.eventId() as string).values()]).toEqual([
      at("a", "E", "5-0"),
      at("b", "0", "0-0"),
    ]);
  });
  it("past the compound limit it forgets the least recently active pattern channel, never a named one", () => {
    const positions = createStreamPositions(false, new Set(["named"]));
    positions.advance(at("named", "E", "1-0"));
    for (let i = 0; i < MAX_COMPOUND_POSITIONS + 5; i++) positions.advance(at(`p.${i}`, "E", "1-0"));
    const kept = decodeCompoundCursor(positions.eventId() as string);
    expect(kept.size).toBe(MAX_COMPOUND_POSITIONS);
    expect(kept.has("named")).toBe(true);
    expect(kept.has("p.0")).toBe(false);
    expect(kept.has(`p.${MAX_COMPOUND_POSITIONS + 4}`)).toBe(true);
  });
});

describe("precedingStreamId", () => {
  it("is the id right before, across the sequence wrap", () => {
    expect(precedingStreamId("5-3")).toBe("5-2");
    expect(precedingStreamId("5-0")).toBe("4-18446744073709551615");
    expect(precedingStreamId("0-0")).toBe("0-0");
  });
});
