import { describe, expect, it } from "vitest";
import { createShutdown } from "./shutdown.ts";

describe("createShutdown", () => {
  it("stops accepting before the app drains, and reports a drain that finished in time", async () => {
    const shutdown = createShutdown({ deadlineMs: 1000 });
    const steps: string[] = [];
    shutdown.signal.addEventListener("abort", () => steps.push("drain"));
    let cut = false;
    const outcome = await shutdown.stop({
      close: () => {
        steps.push("close");
        return new Promise((resolve) => setTimeout(resolve, 20));
      },
      cut: () => {
        cut = true;
      },
    });
    expect(outcome).toBe("drained");
    expect(steps).toEqual(["close", "drain"]);
    expect(cut).toBe(false);
  });

  it("cuts what is still open at the deadline", async () => {
    const shutdown = createShutdown({ deadlineMs: 50 });
    let cut = 0;
    const started = Date.now();
    const outcome = await shutdown.stop({ close: () => new Promise(() => {}), cut: () => cut++ });
    expect(outcome).toBe("cut");
    expect(cut).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(shutdown.signal.aborted).toBe(true);
  });

  it("runs once: a second signal gets the same outcome", async () => {
    const shutdown = createShutdown({ deadlineMs: 1000 });
    let closes = 0;
    const server = { close: async () => void closes++, cut: () => {} };
    const first = shutdown.stop(server);
    expect(shutdown.stop(server)).toBe(first);
    expect(await first).toBe("drained");
    expect(closes).toBe(1);
  });
});
