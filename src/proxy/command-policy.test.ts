import { describe, expect, it } from "vitest";
import { classifyCommand } from "./command-policy.ts";

const kind = (name: string, ...args: string[]) => classifyCommand({ name, args });

describe("classifyCommand", () => {
  it("lets ordinary commands through", () => {
    expect(kind("GET", "k")).toBe("plain");
    expect(kind("XREAD", "COUNT", "1", "STREAMS", "s", "0")).toBe("plain");
    expect(kind("CLIENT", "LIST")).toBe("plain");
  });

  it("finds blocking commands, XREAD only with BLOCK before STREAMS", () => {
    expect(kind("BLPOP", "q", "0")).toBe("blocking");
    expect(kind("BZMPOP", "1", "1", "z", "MIN")).toBe("blocking");
    expect(kind("XREAD", "block", "100", "STREAMS", "s", "$")).toBe("blocking");
    expect(kind("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")).toBe("blocking");
    expect(kind("XREAD", "STREAMS", "block", "0")).toBe("plain"); // a stream named "block"
  });

  it("refuses what would change a shared connection's state", () => {
    for (const name of [
      "WATCH",
      "SELECT",
      "SUBSCRIBE",
      "PSUBSCRIBE",
      "MULTI",
      "EXEC",
      "MONITOR",
      "HELLO",
      "AUTH",
      "QUIT",
    ]) {
      expect(kind(name, "x")).toBe("connection-state");
    }
    expect(kind("CLIENT", "REPLY", "OFF")).toBe("connection-state");
    expect(kind("CLIENT")).toBe("connection-state");
  });
});
