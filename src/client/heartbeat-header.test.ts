import { describe, expect, it } from "vitest";
import { announcedHeartbeatMs } from "./subscribe.ts";

const announced = (value?: string) =>
  announcedHeartbeatMs(new Headers(value === undefined ? {} : { "relay-heartbeat-ms": value }));

describe("announcedHeartbeatMs (the Relay-Heartbeat-Ms response header)", () => {
  it("reads the relay's interval within the relay's own bounds (RELAY_HEARTBEAT_MS 100..3600000)", () => {
    expect(announced("15000")).toBe(15_000);
    expect(announced(" 60000 ")).toBe(60_000);
    expect(announced("100")).toBe(100);
    expect(announced("3600000")).toBe(3_600_000);
  });

  it("ignores an absent, malformed or out-of-range value (the default then applies)", () => {
    for (const value of [
      undefined,
      "",
      "abc",
      "-5",
      "1e3",
      "15000.5",
      "0x10",
      "99",
      "3600001",
      "15000, 15000",
    ]) {
      expect(announced(value), JSON.stringify(value)).toBeUndefined();
    }
    expect(announced("9".repeat(400))).toBeUndefined();
  });
});
