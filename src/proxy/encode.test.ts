import { describe, expect, it } from "vitest";
import { encodeReply, responseEncodingOf } from "./encode.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("encodeReply", () => {
  it("base64-encodes bulk and status strings from their raw bytes, OK included", () => {
    expect(encodeReply(Buffer.from("bar"), "base64")).toBe(b64("bar"));
    expect(encodeReply(Buffer.from("OK"), "base64")).toBe("T0s=");
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a]);
    expect(Buffer.from(encodeReply(binary, "base64") as string, "base64")).toEqual(binary);
  });

  it("encodes every string at every depth and leaves numbers and null alone", () => {
    const reply = [Buffer.from("OK"), "5", null, [Buffer.from("n"), [Buffer.from("deep"), "-7"]]];
    expect(encodeReply(reply, "base64")).toEqual(["T0s=", 5, null, [b64("n"), [b64("deep"), -7]]]);
  });

  it("answers UTF-8 text without base64, replacing invalid bytes with U+FFFD", () => {
    expect(encodeReply(Buffer.from("wörld ✓"), "utf8")).toBe("wörld ✓");
    expect(encodeReply(Buffer.from([0x61, 0xff, 0x62]), "utf8")).toBe("a\ufffdb");
    expect(encodeReply([Buffer.from("OK"), "1"], "utf8")).toEqual(["OK", 1]);
  });

  it("keeps integers exact: numbers up to 2^53, decimal strings beyond", () => {
    expect(encodeReply("9007199254740991", "utf8")).toBe(9007199254740991);
    expect(encodeReply("-9007199254740991", "utf8")).toBe(-9007199254740991);
    expect(encodeReply("9007199254740993", "utf8")).toBe("9007199254740993");
    expect(encodeReply("-9223372036854775808", "base64")).toBe(b64("-9223372036854775808"));
  });

  it("turns an error nested in an array into its message text", () => {
    expect(encodeReply([Buffer.from("a"), new Error("boom")], "utf8")).toEqual(["a", "boom"]);
    expect(encodeReply([new Error("boom")], "base64")).toEqual([b64("boom")]);
  });

  it("keeps an empty string and an empty array", () => {
    expect(encodeReply(Buffer.alloc(0), "base64")).toBe("");
    expect(encodeReply([], "base64")).toEqual([]);
  });
});

describe("responseEncodingOf", () => {
  it("reads Upstash-Encoding case-insensitively", () => {
    expect(responseEncodingOf("base64")).toBe("base64");
    expect(responseEncodingOf(" Base64 ")).toBe("base64");
    expect(responseEncodingOf(undefined)).toBe("utf8");
    expect(responseEncodingOf("gzip")).toBe("utf8");
  });
});
