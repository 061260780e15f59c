import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.ts";
import { SseReader } from "./sse-reader.ts";

/** A body the test feeds by hand; `end()` closes it, `fail()` breaks it like a dropped connection. */
function manualBody() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const encoder = new TextEncoder();
  return {
    body,
    send: (text: string) => controller.enqueue(encoder.encode(text)),
    sendBytes: (bytes: number[]) => controller.enqueue(new Uint8Array(bytes)),
    end: () => controller.close(),
    fail: () => controller.error(new TypeError("terminated")),
  };
}

describe("SseReader", () => {
  it("parses events split across chunks, multi-byte characters split across chunks, and retry:", async () => {
    const stream = manualBody();
    const reader = new SseReader(stream.body, 60_000);
    stream.send("retry: 1500\n\nid: c1\nevent: no");
    stream.send('te\ndata: {"a":');
    stream.send("1}\n\n: keepalive\n\ndata: caf");
    stream.sendBytes([0xc3]); // "é" is C3 A9: split over two chunks
    stream.sendBytes([0xa9, 0x0a, 0x0a]);
    stream.end();
    expect(await reader.next()).toEqual({ kind: "retry", ms: 1500 });
    expect(await reader.next()).toEqual({ kind: "position", id: "c1" });
    expect(await reader.next()).toEqual({
      kind: "event",
      event: { id: "c1", event: "note", data: '{"a":1}' },
    });
    expect(await reader.next()).toMatchObject({ kind: "event", event: { data: "café" } });
    expect(await reader.next()).toEqual({ kind: "end" });
  });

  it("reports the id of an id-only frame (the relay's position frame), which eventsource-parser drops", async () => {
    const stream = manualBody();
    const reader = new SseReader(stream.body, 60_000);
    stream.send("id: position-1\n\n: keepalive\n\nid: position-2\nretry: 1000\n\n");
    stream.end();
    expect(await reader.next()).toEqual({ kind: "position", id: "position-1" });
    // retry: takes effect when its line is read, the id when the frame's blank line dispatches it.
    expect(await reader.next()).toEqual({ kind: "retry", ms: 1000 });
    expect(await reader.next()).toEqual({ kind: "position", id: "position-2" });
    expect(await reader.next()).toEqual({ kind: "end" });
  });

  it("tracks ids over CRLF split between chunks, lone CR, id:x without a space, and keeps the id across frames", async () => {
    const stream = manualBody();
    const reader = new SseReader(stream.body, 60_000);
    stream.send("id: a\r\ndata: one\r"); // this CRLF straddles two chunks: one line end, not a blank line
    stream.send("\ndata: more\r\n\r");
    stream.send("\nid:b\rdata: two\r\rdata: three\n\ni");
    stream.send("d: c\n\n");
    stream.end();
    const items = [];
    for (let item = await reader.next(); item.kind !== "end"; item = await reader.next()) items.push(item);
    expect(items).toEqual([
      { kind: "position", id: "a" },
      { kind: "event", event: { id: "a", event: undefined, data: "one\nmore" } },
      { kind: "position", id: "b" },
      { kind: "event", event: { id: "b", event: undefined, data: "two" } },
      // No id line: the id stays b (EventSource's lastEventId is sticky), so no new position.
      { kind: "event", event: { id: undefined, event: undefined, data: "three" } },
      { kind: "position", id: "c" },
    ]);
  });

  it("ignores an id containing NUL and an id frame cut off by the end of the stream", async () => {
    const stream = manualBody();
    const reader = new SseReader(stream.body, 60_000);
    stream.send("id: good\n\nid: bad\u0000id\n\nid: cut off");
    stream.end();
    expect(await reader.next()).toEqual({ kind: "position", id: "good" });
    expect(await reader.next()).toEqual({ kind: "end" });
  });

  it("an incomplete last event (no blank line) is dropped at the end, as EventSource does", async () => {
    const stream = manualBody();
    const reader = new SseReader(stream.body, 60_000);
    stream.send("data: complete\n\ndata: cut off");
    stream.end();
    expect(await reader.next()).toMatchObject({ kind: "event", event: { data: "complete" } });
    expect(await reader.next()).toEqual({ kind: "end" });
  });

  it("a stream that never sends a byte is idle with sawBytes false (a buffering proxy)", async () => {
    const stream = manualBody();
    const reader = new SseReader(stream.body, 20);
    expect(await reader.next()).toEqual({ kind: "idle", sawBytes: false });
    expect(reader.sawBytes).toBe(false);
  });

  it("a stream that sent heartbeats and then went silent is idle with sawBytes true (a dead connection)", async () => {
    const stream = manualBody();
    const reader = new SseReader(stream.body, 20);
    stream.send(": keepalive\n\n");
    expect(await reader.next()).toEqual({ kind: "idle", sawBytes: true });
  });

  it("a broken connection surfaces as an error item", async () => {
    const stream = manualBody();
    const reader = new SseReader(stream.body, 60_000);
    stream.send("data: one\n\n");
    expect(await reader.next()).toMatchObject({ kind: "event" });
    stream.fail();
    expect(await reader.next()).toMatchObject({ kind: "error" });
  });
});

describe("backoffDelay", () => {
  it("doubles up to the cap, always within [ceiling/2, ceiling] (full jitter on the upper half)", () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(1000, 100 * 2 ** attempt);
      for (let sample = 0; sample < 20; sample++) {
        const delay = backoffDelay(attempt, { initialMs: 100, maxMs: 1000 });
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});
