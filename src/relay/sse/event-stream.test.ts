import { describe, expect, it } from "vitest";
import { createEventStream } from "./event-stream.ts";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

describe("createEventStream", () => {
  it("hands a frame straight to a pending read: the write has nothing to wait for", async () => {
    const stream = createEventStream();
    const reader = stream.body.getReader();
    const read = reader.read();
    await Promise.resolve(); // the read reaches the stream's pull
    expect(stream.write("data: 1\n\n")).toBeUndefined();
    expect(text((await read).value)).toBe("data: 1\n\n");
  });

  it("queues a frame nobody is reading and settles the write once the reader has taken everything", async () => {
    const stream = createEventStream();
    const reader = stream.body.getReader();
    const pending = stream.write("data: 1\n\n");
    expect(pending).toBeInstanceOf(Promise);
    let settled = false;
    void pending?.then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toBe(false);
    expect(text((await reader.read()).value)).toBe("data: 1\n\n");
    const next = reader.read(); // asking for more with an empty queue: the writer may go on
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(settled).toBe(true);
    stream.close();
    expect((await next).done).toBe(true);
  });

  it("abort ends the body, tells its listeners once, and ignores later writes", async () => {
    const stream = createEventStream();
    const reader = stream.body.getReader();
    let told = 0;
    stream.onAbort(() => told++);
    stream.abort();
    stream.abort();
    expect(told).toBe(1);
    expect(stream.aborted && stream.closed).toBe(true);
    expect(stream.write("data: late\n\n")).toBeUndefined();
    expect((await reader.read()).done).toBe(true);
  });

  it("a cancelled body (the client went away) counts as aborted", async () => {
    const stream = createEventStream();
    let told = false;
    stream.onAbort(() => {
      told = true;
    });
    await stream.body.cancel();
    expect(stream.aborted).toBe(true);
    expect(told).toBe(true);
  });

  it("the request's signal aborts it (the only disconnect notice on some runtimes), even when already aborted", async () => {
    const controller = new AbortController();
    const stream = createEventStream(controller.signal);
    let told = 0;
    stream.onAbort(() => told++);
    controller.abort();
    expect(stream.aborted && stream.closed).toBe(true);
    expect(told).toBe(1);
    expect(createEventStream(AbortSignal.abort()).aborted).toBe(true);
  });

  it("a closed stream stops listening to the request's signal", async () => {
    const controller = new AbortController();
    const stream = createEventStream(controller.signal);
    stream.close();
    controller.abort();
    expect(stream.aborted).toBe(false);
  });

  it("the same frame written to many streams is encoded once and read back whole by each", async () => {
    const streams = [createEventStream(), createEventStream(), createEventStream()];
    const readers = streams.map((stream) => stream.body.getReader());
    const frame = `data: ${"é".repeat(1000)}\n\n`;
    for (const stream of streams) stream.write(frame);
    const chunks = await Promise.all(readers.map(async (reader) => (await reader.read()).value));
    expect(chunks[0]).toBe(chunks[1]);
    for (const chunk of chunks) expect(text(chunk)).toBe(frame);
  });
});
