import { describe, expect, it } from "vitest";
import { ProblemError } from "../../protocol/problems.ts";
import { formatEtag, noneMatchHits, parseEtagCondition } from "./etag.ts";

const sha = "3f786850e387550fdab836ed7e6dc881de23001b";
const other = "0000000000000000000000000000000000000000";

describe("entity-tag conditions", () => {
  it("parse *, lists, weak tags (weakly for If-None-Match only) and drop foreign tags", () => {
    expect(parseEtagCondition(null, "If-Match", false)).toBeUndefined();
    expect(parseEtagCondition(" * ", "If-Match", false)).toBe("*");
    expect(parseEtagCondition(`${formatEtag(sha)}, "${other}"`, "If-Match", false)).toEqual([sha, other]);
    expect(parseEtagCondition(`W/"${sha}"`, "If-Match", false)).toEqual([]);
    expect(parseEtagCondition(`W/"${sha}"`, "If-None-Match", true)).toEqual([sha]);
    expect(parseEtagCondition('"abc"', "If-Match", false)).toEqual([]);
    expect(parseEtagCondition('""', "If-Match", false)).toEqual([]);
  });

  it.each(["abc", '"open', "*, *", '"a" "b"', `"${sha}",,`, `"a\\"b"`])(
    "rejects %s with 400 invalid_header",
    (header) => {
      expect(() => parseEtagCondition(header, "If-Match", false)).toThrow(ProblemError);
    },
  );

  it("If-None-Match hits on * or a listed tag", () => {
    expect(noneMatchHits("*", sha)).toBe(true);
    expect(noneMatchHits([other, sha], sha)).toBe(true);
    expect(noneMatchHits([other], sha)).toBe(false);
    expect(noneMatchHits(undefined, sha)).toBe(false);
  });
});
