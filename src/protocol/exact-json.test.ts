import { describe, expect, it } from "vitest";
import { inexactNumberText, parseJsonKeepingNumbers } from "./exact-json.ts";

describe("parseJsonKeepingNumbers", () => {
  const asText = (text: string) => parseJsonKeepingNumbers(text, (source) => `text:${source}`);

  it("hands integers past 2^53 and non-finite numbers to keep(), as sent", () => {
    expect(asText("[12345678901234567890, 9007199254740993, 1e400, -1e400]")).toEqual([
      "text:12345678901234567890",
      "text:9007199254740993",
      "text:1e400",
      "text:-1e400",
    ]);
  });
  it("leaves numbers a double writes back unchanged, and non-numbers alone", () => {
    expect(
      asText('{"a": 1, "b": 2.5, "c": 1e3, "d": 9007199254740991, "e": "12345678901234567890"}'),
    ).toEqual({
      a: 1,
      b: 2.5,
      c: 1000,
      d: 9007199254740991,
      e: "12345678901234567890",
    });
  });
  it("keeps the double when keep() answers undefined", () => {
    expect(parseJsonKeepingNumbers("[12345678901234567890]", () => undefined)).toEqual([
      12345678901234567000,
    ]);
  });
  it("parses deep nesting (past the reviver's stack) plainly, and throws on invalid JSON", () => {
    const deep = `${"[".repeat(20_000)}1${"]".repeat(20_000)}`;
    expect(Array.isArray(asText(deep))).toBe(true);
    expect(() => asText("[1,")).toThrow(SyntaxError);
  });
});

describe("inexactNumberText", () => {
  it("is the source only where the double would change it", () => {
    expect(inexactNumberText(12345678901234567000, "12345678901234567890")).toBe("12345678901234567890");
    expect(inexactNumberText(Number.POSITIVE_INFINITY, "1e400")).toBe("1e400");
    expect(inexactNumberText(-0, "-0")).toBe("-0");
    expect(inexactNumberText(1.5, "1.50")).toBeUndefined();
    expect(inexactNumberText(42, undefined)).toBeUndefined();
  });
});
