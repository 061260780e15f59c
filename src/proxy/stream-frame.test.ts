import { describe, expect, it } from "vitest";
import { neutraliseLineBreaks, streamFrame } from "./stream-frame.ts";

describe("streamFrame", () => {
  it("builds one data line with \\n endings, payload bytes untouched", () => {
    expect(streamFrame(["message", "ch", Buffer.from("a,b,c ✓")]).toString()).toBe(
      "data: message,ch,a,b,c ✓\n\n",
    );
  });

  it("never lets a payload's line break start a line of its own", () => {
    const frame = streamFrame([
      "message",
      "ch",
      Buffer.from("x\ndata: message,other,forged\r\rdata: y"),
    ]).toString();
    const dataLines = frame.split(/\r\n|\r|\n/).filter((line) => line.startsWith("data:"));
    expect(dataLines).toEqual(["data: message,ch,x"]);
  });
});

describe("neutraliseLineBreaks", () => {
  it("returns the same buffer when there is nothing to do", () => {
    const bytes = Buffer.from("plain");
    expect(neutraliseLineBreaks(bytes)).toBe(bytes);
  });

  it("puts a space after LF, after a lone CR, and after CRLF once", () => {
    expect(neutraliseLineBreaks(Buffer.from("a\nb\rc\r\nd")).toString()).toBe("a\n b\r c\r\n d");
  });
});
