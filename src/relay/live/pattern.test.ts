import { describe, expect, it } from "vitest";
import { patternMatcher } from "./pattern.ts";

describe("patternMatcher (Redis glob)", () => {
  it("matches * ? and [...] like PSUBSCRIBE; other characters literally", () => {
    expect(patternMatcher("eu.*")("eu.paris")).toBe(true);
    expect(patternMatcher("eu.*")("euXparis")).toBe(false);
    expect(patternMatcher("a?c")("abc")).toBe(true);
    expect(patternMatcher("a?c")("ac")).toBe(false);
    expect(patternMatcher("h[ae]llo")("hallo")).toBe(true);
    expect(patternMatcher("h[^e]llo")("hello")).toBe(false);
    expect(patternMatcher("h[a-c]llo")("hbllo")).toBe(true);
    expect(patternMatcher("a-b:c_d")("a-b:c_d")).toBe(true);
    expect(patternMatcher("*")("anything.at:all")).toBe(true);
  });
});
