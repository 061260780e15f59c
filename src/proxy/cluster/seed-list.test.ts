import { describe, expect, it } from "vitest";
import { parseSeedNodes } from "./seed-list.ts";

describe("parseSeedNodes", () => {
  it("reads host:port, names and IPv6 in brackets", () => {
    expect(parseSeedNodes(["127.0.0.1:7000", " redis-a:7001", "[::1]:7002"])).toEqual([
      { host: "127.0.0.1", port: 7000 },
      { host: "redis-a", port: 7001 },
      { host: "::1", port: 7002 },
    ]);
  });

  it("refuses entries without a valid port, naming them", () => {
    for (const bad of ["127.0.0.1", "h:0", "h:70000", "redis://h:1", "::1:7000", ""])
      expect(() => parseSeedNodes([bad])).toThrow(
        new RegExp(`host:port.*${JSON.stringify(bad).replace(/[[\]/.]/g, "\\$&")}`),
      );
  });
});
