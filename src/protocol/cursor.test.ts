import { describe, expect, it } from "vitest";
import {
  CursorError,
  compareStreamIds,
  decodeCompoundCursor,
  decodeCursor,
  EMPTY_EPOCH,
  encodeCompoundCursor,
  encodeCursor,
  MAX_COMPOUND_POSITIONS,
  parseStreamId,
  streamIdTime,
} from "./cursor.ts";

const position = { channel: "orders.eu:1_x-y", epoch: "HnQLTkDnmfqj", streamId: "1795911240311-7" };

describe("single-channel cursor", () => {
  it("round-trips, is URL-safe and carries its channel", () => {
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_.~-]+$/);
    expect(encodeURIComponent(cursor)).toBe(cursor);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it("accepts the empty-epoch start position", () => {
    const start = { channel: "a", epoch: EMPTY_EPOCH, streamId: "0-0" };
    expect(decodeCursor(encodeCursor(start))).toEqual(start);
  });

  it("normalises leading zeros in the stream id", () => {
    expect(decodeCursor("YQ.e.0007-00").streamId).toBe("7-0");
  });

  it.each([
    ["empty", ""],
    ["two parts", "YQ.e"],
    ["four parts", "YQ.e.1-0.x"],
    ["channel not base64url", "Y+Q.e.1-0"],
    ["channel decodes to an invalid name", `${btoa("a b")}.e.1-0`],
    ["channel with CR/LF", `${btoa("a\r\nb").replaceAll("=", "")}.e.1-0`],
    ["epoch with a space", "YQ.e e.1-0"],
    ["epoch too long", `YQ.${"e".repeat(65)}.1-0`],
    ["stream id without seq", "YQ.e.1"],
    ["stream id over 2^64", "YQ.e.18446744073709551616-0"],
    ["stream id negative", "YQ.e.-1-0"],
    ["huge", `YQ.e.${"9".repeat(500)}-0`],
    ["newline", "YQ.e.1-0\n"],
  ])("rejects %s", (_label, text) => {
    expect(() => decodeCursor(text)).toThrow(CursorError);
  });
});

describe("compound cursor", () => {
  const other = { channel: "b", epoch: "E2", streamId: "5-0" };

  it("round-trips several positions", () => {
    const cursor = encodeCompoundCursor([position, other]);
    expect(encodeURIComponent(cursor)).toBe(cursor);
    expect([...decodeCompoundCursor(cursor).values()]).toEqual([position, other]);
  });

  it("accepts a single-channel cursor as a one-position compound cursor", () => {
    const positions = decodeCompoundCursor(encodeCursor(other));
    expect(positions.get("b")).toEqual(other);
    expect(positions.size).toBe(1);
  });

  it("rejects a channel named twice, a malformed part and too many positions", () => {
    expect(() => decodeCompoundCursor(encodeCompoundCursor([other, other]))).toThrow(/twice/);
    expect(() => decodeCompoundCursor(`${encodeCursor(other)}~junk`)).toThrow(CursorError);
    const many = Array.from({ length: MAX_COMPOUND_POSITIONS + 1 }, (_, i) => ({
      channel: `c${i}`,
      epoch: "e",
      streamId: "1-0",
    }));
    expect(() => decodeCompoundCursor(encodeCompoundCursor(many))).toThrow(/at most/);
  });
});

describe("stream ids", () => {
  it("parse, compare numerically and give the time", () => {
    expect(parseStreamId("10-2")).toBe("10-2");
    expect(parseStreamId("x-1")).toBeNull();
    expect(compareStreamIds("9-0", "10-0")).toBeLessThan(0);
    expect(compareStreamIds("10-10", "10-9")).toBeGreaterThan(0);
    expect(compareStreamIds("18446744073709551615-0", "18446744073709551614-99")).toBeGreaterThan(0);
    expect(compareStreamIds("3-3", "3-3")).toBe(0);
    expect(compareStreamIds("0-0", "0-1")).toBeLessThan(0);
    expect(compareStreamIds("99-100", "100-0")).toBeLessThan(0);
    expect(compareStreamIds("1700000000000-10", "1700000000000-9")).toBeGreaterThan(0);
    expect(compareStreamIds("1700000000001-0", "1700000000000-18446744073709551615")).toBeGreaterThan(0);
    // The same order as the numbers, over many random pairs.
    for (let i = 0; i < 2000; i++) {
      const [a, b] = [randomId(), randomId()];
      const [am, as] = a.split("-").map(BigInt) as [bigint, bigint];
      const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint];
      const expected = am !== bm ? (am < bm ? -1 : 1) : as !== bs ? (as < bs ? -1 : 1) : 0;
      expect(Math.sign(compareStreamIds(a, b)), `${a} vs ${b}`).toBe(expected);
    }
    expect(streamIdTime("1795911240311-7")).toBe(1795911240311);
  });
});

/** A canonical stream id with parts of random length, often equal, to reach every branch of the comparison. */
function randomId(): string {
  const part = () => {
    const digits = Math.floor(Math.random() * 4);
    return String(BigInt(Math.floor(Math.random() * 10 ** digits)));
  };
  return `${part()}-${part()}`;
}
