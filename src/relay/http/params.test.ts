import { describe, expect, it } from "vitest";
import { channelNameSchema } from "../../protocol/names.ts";
import { ProblemError } from "../../protocol/problems.ts";
import { channelName } from "./params.ts";

const NAMES = [
  "orders",
  "orders.eu:1_x-y",
  "c".repeat(200),
  "c".repeat(201),
  "",
  "relay:",
  "relay:x",
  "Relay:x",
  "relayx",
  "xrelay:",
  "a b",
  "a/b",
  "a*",
  "a\n",
  "é",
  "a%2F",
  "a\u0000",
];

describe("channelName", () => {
  it("accepts exactly what channelNameSchema accepts", () => {
    for (const name of NAMES) {
      const valid = channelNameSchema.safeParse(name).success;
      if (valid) expect(channelName(name), name).toBe(name);
      else expect(() => channelName(name), JSON.stringify(name)).toThrow(ProblemError);
    }
  });

  it("answers an invalid name with the schema's message", () => {
    expect(() => channelName("relay:x")).toThrow(/^invalid_name: channel: channels starting with "relay:"/);
    expect(() => channelName("a b")).toThrow(/^invalid_name: channel: a channel is 1-200 characters/);
  });
});
