import { describe, expect, it } from "vitest";
import { formatFrame } from "./frame.ts";

describe("formatFrame", () => {
  it("writes id, event, retry and one data: line per line of data, then a blank line", () => {
    expect(formatFrame({ id: "c1", event: "note", data: "a\nb\r\nc" })).toBe(
      "id: c1\nevent: note\ndata: a\ndata: b\ndata: c\n\n",
    );
    expect(formatFrame({ retry: 1000 })).toBe("retry: 1000\n\n");
  });
  it("omits event: for the default type message", () => {
    expect(formatFrame({ event: "message", data: "{}" })).toBe("data: {}\n\n");
  });
  it("refuses a line break in id or event (it would forge fields)", () => {
    expect(() => formatFrame({ id: "a\nevent: reset", data: "x" })).toThrow(/id must not contain CR or LF/);
    expect(() => formatFrame({ event: "a\rb", data: "x" })).toThrow(/event must not contain/);
  });
});
