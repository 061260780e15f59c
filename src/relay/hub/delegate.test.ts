import { describe, expect, it } from "vitest";
import { subscriptionObjectName } from "./delegate.ts";

describe("subscriptionObjectName", () => {
  it("one channel is the channel's object, shared by its streams and long-polls", () => {
    expect(subscriptionObjectName({ channels: ["orders"], patterns: [] })).toBe("channel:orders");
  });
  it("a set is named by its sorted members, so the same set in any order shares one object", () => {
    const a = subscriptionObjectName({ channels: ["b", "a"], patterns: ["x.*"] });
    const b = subscriptionObjectName({ channels: ["a", "b"], patterns: ["x.*"] });
    expect(a).toBe(b);
    expect(a).not.toBe(subscriptionObjectName({ channels: ["a", "b"], patterns: [] }));
  });
  it("a channel and a one-pattern set never share a name", () => {
    expect(subscriptionObjectName({ channels: [], patterns: ["orders"] })).not.toBe("channel:orders");
  });
});
