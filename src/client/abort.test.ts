import { describe, expect, it } from "vitest";
import { readText, unlessAborted } from "./abort.ts";

describe("unlessAborted", () => {
  it("rejects with the signal's reason at once, and hands a value that arrives later to discard", async () => {
    const stop = new AbortController();
    let arrive: (value: string) => void = () => {};
    const discarded: string[] = [];
    const waiting = unlessAborted(
      new Promise<string>((resolve) => {
        arrive = resolve;
      }),
      stop.signal,
      (late) => discarded.push(late),
    );
    stop.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
    arrive("late");
    await Promise.resolve();
    expect(discarded).toEqual(["late"]);
  });

  it("passes the value or the error through when nothing aborts", async () => {
    const signal = new AbortController().signal;
    await expect(unlessAborted(Promise.resolve(1), signal, () => {})).resolves.toBe(1);
    await expect(unlessAborted(Promise.reject(new Error("no")), signal, () => {})).rejects.toThrow("no");
  });
});

describe("readText", () => {
  it("cancels the body on abort and rejects, while the body is still waiting for bytes", async () => {
    const stop = new AbortController();
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("{"));
      },
      cancel() {
        cancelled = true;
      },
    });
    const reading = readText(new Response(body), stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 10));
    stop.abort(new Error("stop"));
    await expect(reading).rejects.toThrow("stop");
    expect(cancelled).toBe(true);
  });

  it("reads the whole body when nothing aborts", async () => {
    expect(await readText(new Response("héllo"), new AbortController().signal)).toBe("héllo");
  });
});
