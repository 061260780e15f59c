import { afterEach, describe, expect, it, vi } from "vitest";
import { KEEPALIVE_FRAME } from "../../protocol/stream-headers.ts";
import { createEventStream } from "./event-stream.ts";
import { createSseSession, type SseEndReason, type SseSessionOptions } from "./session.ts";

/** A session over a real event stream, read by a reader that keeps up; `text()` is what the client got. */
function harness(overrides: Partial<SseSessionOptions<string>> = {}) {
  // The request's signal reaches the session through the stream (as response.ts wires it).
  const controller = new AbortController();
  const stream = createEventStream(controller.signal);
  const ends: SseEndReason[] = [];
  const session = createSseSession<string>({
    stream,
    heartbeatMs: 50,
    lifetimeMs: 60_000,
    retryMs: 1000,
    maxBacklog: 100,
    render: (item) => (item === "skip" ? undefined : `data: ${item}\n\n`),
    onEnd: (reason) => ends.push(reason),
    ...overrides,
  });
  let received = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    const reader = stream.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      received += decoder.decode(value);
    }
  })();
  const running = session.run();
  return { session, controller, ends, text: () => received, running, reading };
}

const until = async (check: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the SSE session (the writer of one stream)", () => {
  it("writes pushed items in order, drops what render drops, and ends once on the client's abort", async () => {
    const { session, controller, ends, text, running } = harness();
    for (const item of ["a", "skip", "b", "c"]) session.push(item);
    await until(() => text().includes("data: c"));
    expect(text()).toBe("data: a\n\ndata: b\n\ndata: c\n\n");
    controller.abort();
    await running;
    session.end("done");
    expect(ends).toEqual(["client-gone"]);
    expect(session.ended).toBe(true);
  });

  it("sends heartbeats while idle, and a message postpones the next one", async () => {
    const { session, text, running } = harness({ heartbeatMs: 40 });
    await until(() => text().split(KEEPALIVE_FRAME).length - 1 >= 2);
    session.push("x");
    await until(() => text().includes("data: x"));
    session.end("done");
    await running;
  });

  it("a busy stream sets a handful of timers, not one per message", async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const { session, text, running } = harness({ heartbeatMs: 10_000 });
    await until(() => setTimeoutSpy.mock.calls.length > 0);
    for (let i = 0; i < 200; i++) {
      session.push(String(i));
      await until(() => text().includes(`data: ${i}\n\n`));
    }
    // One alarm for the heartbeat, set once; the 200 wake-ups reuse it (until() itself sets timers: not counted).
    const sessionTimers = setTimeoutSpy.mock.calls.filter(([, ms]) => Number(ms) > 5_000);
    expect(sessionTimers.length).toBeLessThanOrEqual(2);
    session.end("done");
    await running;
  });

  it("ends with slow-consumer when more than maxBacklog items wait", async () => {
    const { session, ends, running } = harness({ maxBacklog: 3 });
    for (const item of ["1", "2", "3", "4"]) session.push(item);
    await running;
    expect(ends).toEqual(["slow-consumer"]);
  });

  it("rotates at the end of its lifetime with the position as id: and retry:", async () => {
    const { ends, text, running } = harness({ lifetimeMs: 60, position: () => "cursor-7" });
    await running;
    expect(ends).toEqual(["lifetime"]);
    expect(text()).toContain("id: cursor-7\nretry: 1000\n\n");
  });

  it("ends at the token's expiry without retry:", async () => {
    const { ends, text, running } = harness({ closeAt: Date.now() + 60 });
    await running;
    expect(ends).toEqual(["token-expired"]);
    expect(text()).not.toContain("retry:");
  });
});
