import { describe, expect, it } from "vitest";
import { CommandInputError, parseCommand, parseCommandList } from "./command-input.ts";

describe("parseCommand", () => {
  it("converts JSON arguments the way the client sends them", () => {
    expect(parseCommand(["set", "k", "v", "ex", 10])).toEqual({ name: "SET", args: ["k", "v", "ex", "10"] });
    expect(parseCommand(["zadd", "z", null, "m", 1.5, true, false])).toEqual({
      name: "ZADD",
      args: ["z", "", "m", "1.5", "true", "false"],
    });
  });

  it("refuses shapes Redis has no meaning for, naming what was wrong", () => {
    expect(() => parseCommand({ cmd: "get" })).toThrow(/must be a JSON array.*got an object/);
    expect(() => parseCommand([])).toThrow(/empty array/);
    expect(() => parseCommand([1, "k"])).toThrow(/command name must be a non-empty string, got number/);
    expect(() => parseCommand(["set", "k", ["nested"]])).toThrow(/argument 2 must be a string.*got an array/);
    expect(() => parseCommand(["set", "k", { a: 1 }])).toThrow(CommandInputError);
  });
});

describe("parseCommandList", () => {
  it("parses an array of commands and numbers the broken one", () => {
    expect(
      parseCommandList([
        ["get", "a"],
        ["incr", "b"],
      ]),
    ).toHaveLength(2);
    expect(() => parseCommandList([["get", "a"], "get b"])).toThrow(/command 2 must be a JSON array/);
    expect(() => parseCommandList([])).toThrow(/no commands/);
    expect(() => parseCommandList(["get", "a"])).toThrow(/command 1/);
  });
});
