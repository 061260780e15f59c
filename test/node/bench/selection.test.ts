import { describe, expect, it } from "vitest";
import { selectionFromEnv } from "../../../bench/relay/selection.ts";

describe("relay bench selection from the environment", () => {
  it("runs everything by default", () => {
    const selection = selectionFromEnv({});
    expect(selection.runtimes).toEqual(["node", "deno", "workers"]);
    expect(selection.scenarios).toContain("open-1000");
    expect(selection.scale).toBe(1);
    expect(selection.relayEnv).toEqual({});
  });

  it("takes subsets in canonical order and relay settings as RELAY_ pairs", () => {
    const selection = selectionFromEnv({
      BENCH_RELAY_RUNTIMES: "workers, node",
      BENCH_RELAY_SCENARIOS: "flat-out,open-100",
      BENCH_RELAY_SCALE: "0.2",
      BENCH_RELAY_ENV: "RELAY_HUB=off,RELAY_HEARTBEAT_MS=5000",
    });
    expect(selection.runtimes).toEqual(["node", "workers"]);
    expect(selection.scenarios).toEqual(["open-100", "flat-out"]);
    expect(selection.scale).toBe(0.2);
    expect(selection.relayEnv).toEqual({ RELAY_HUB: "off", RELAY_HEARTBEAT_MS: "5000" });
  });

  it("refuses unknown names and settings that are not RELAY_*", () => {
    expect(() => selectionFromEnv({ BENCH_RELAY_RUNTIMES: "bun" })).toThrow(/BENCH_RELAY_RUNTIMES.*bun/);
    expect(() => selectionFromEnv({ BENCH_RELAY_SCENARIOS: "open-10" })).toThrow(/open-10/);
    expect(() => selectionFromEnv({ BENCH_RELAY_ENV: "PATH=/tmp" })).toThrow(/BENCH_RELAY_ENV/);
    expect(() => selectionFromEnv({ BENCH_RELAY_SCALE: "0" })).toThrow(/BENCH_RELAY_SCALE/);
  });
});
