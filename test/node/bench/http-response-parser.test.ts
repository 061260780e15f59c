import { describe, expect, it } from "vitest";
import { HttpResponseParser, type ParsedResponse } from "../../../bench/relay/http-response-parser.ts";

/** Feeds `text` to a fresh parser in pieces of `size` bytes; returns every response it completed. */
function feed(text: string, size: number, parser = new HttpResponseParser()): ParsedResponse[] {
  const bytes = Buffer.from(text);
  const answers: ParsedResponse[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    const answer = parser.push(bytes.subarray(offset, offset + size));
    if (answer) answers.push(answer);
  }
  return answers;
}

/** Every split: whole, one byte at a time, and a few sizes between. */
const SPLITS = [1, 2, 3, 5, 7, 16, 1_000_000];

const withLength = (body: string, status = 200) =>
  `HTTP/1.1 ${status} OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe("HttpResponseParser", () => {
  it("reads a Content-Length body however the bytes are split, multi-byte characters included", () => {
    const body = '{"messages":[{"data":"é ✓ 𝄞"}],"cursor":"0-1","gap":false}';
    for (const size of SPLITS)
      expect(feed(withLength(body), size), `split ${size}`).toEqual([
        { status: 200, text: body, close: false },
      ]);
  });

  it("reads a chunked body with chunk extensions and trailers, however the bytes are split", () => {
    const response =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5;name=value\r\nhello\r\n" +
      "7\r\n, world\r\n" +
      "A\r\n and more.\r\n" +
      "0\r\nX-Trailer: yes\r\n\r\n";
    for (const size of SPLITS)
      expect(feed(response, size), `split ${size}`).toEqual([
        { status: 200, text: "hello, world and more.", close: false },
      ]);
  });

  it("reads one response after another on the same connection (each asked for after the last answer)", () => {
    const parser = new HttpResponseParser();
    expect(feed(withLength("first"), 4, parser)).toEqual([{ status: 200, text: "first", close: false }]);
    expect(parser.started).toBe(false);
    expect(
      feed("HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n3\r\nnot\r\n0\r\n\r\n", 3, parser),
    ).toEqual([{ status: 404, text: "not", close: false }]);
    expect(feed(withLength(""), 5, parser)).toEqual([{ status: 200, text: "", close: false }]);
  });

  it("skips interim 1xx heads; 204 and 304 have no body", () => {
    expect(feed(`HTTP/1.1 100 Continue\r\n\r\n${withLength("ok")}`, 3)).toEqual([
      { status: 200, text: "ok", close: false },
    ]);
    expect(feed("HTTP/1.1 204 No Content\r\n\r\n", 2)).toEqual([{ status: 204, text: "", close: false }]);
    expect(feed("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", 100)).toEqual([
      { status: 304, text: "", close: false },
    ]);
  });

  it("reports Connection: close, and reads a body without length up to the end of the connection", () => {
    expect(
      feed("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok", 4),
    ).toEqual([{ status: 200, text: "ok", close: true }]);
    const parser = new HttpResponseParser();
    expect(feed("HTTP/1.0 200 OK\r\n\r\nuntil the", 3, parser)).toEqual([]);
    expect(feed(" end", 3, parser)).toEqual([]);
    expect(parser.end()).toEqual({ status: 200, text: "until the end", close: true });
  });

  it("tells a connection closed before any byte from one cut in the middle of a response", () => {
    const idle = new HttpResponseParser();
    expect(idle.started).toBe(false);
    expect(idle.end()).toBeUndefined();
    const cut = new HttpResponseParser();
    expect(feed(withLength("twelve bytes").slice(0, -3), 4, cut)).toEqual([]);
    expect(cut.started).toBe(true);
    expect(() => cut.end()).toThrow(/middle of an HTTP response/);
    const headOnly = new HttpResponseParser();
    feed("HTTP/1.1 200 OK\r\nContent-Le", 4, headOnly);
    expect(() => headOnly.end()).toThrow(/middle/);
  });

  it("refuses what is not a well-framed HTTP/1.x response", () => {
    expect(() => feed("SSH-2.0-OpenSSH\r\n\r\n", 100)).toThrow(/status line/);
    expect(() => feed("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", 100)).toThrow(/header line/);
    expect(() => feed("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", 100)).toThrow(/Content-Length/);
    expect(() => feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 100)).toThrow(
      /Content-Length/,
    );
    expect(() => feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 100)).toThrow(
      /chunk size/,
    );
    expect(() => feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", 100)).toThrow(
      /CRLF/,
    );
    expect(() => feed(`${withLength("ok")}extra`, 100)).toThrow(/after the response/);
    expect(() => feed(`HTTP/1.1 200 OK\r\n${"X: y\r\n".repeat(20_000)}`, 100_000)).toThrow(/too long/);
  });
});
