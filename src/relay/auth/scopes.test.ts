import { describe, expect, it } from "vitest";
import {
  globCoversPattern,
  globMatch,
  isAdmin,
  parseScopes,
  scopeAllows,
  scopeAllowsPattern,
} from "./scopes.ts";

describe("globMatch", () => {
  it.each([
    ["orders", "orders", true],
    ["orders", "orders2", false],
    ["orders.*", "orders.eu", true],
    ["orders.*", "orders.", true],
    ["orders.*", "orders", false],
    ["*", "", true],
    ["*", "anything:at.all", true],
    ["a*b*c", "axxbyyc", true],
    ["a*b*c", "axxbyy", false],
    ["?", "a", true],
    ["?", "", false],
    ["??", "a", false],
    ["a?c", "abc", true],
    ["a?c", "abbc", false],
    ["*.eu", "orders.eu", true],
    ["*.eu", "orders.eu.x", false],
    ["sensors.[ab]", "sensors.[ab]", true],
    ["sensors.[ab]", "sensors.a", false],
    ["**", "x", true],
    ["*a", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", false],
  ])("%s ~ %s → %s", (glob, text, expected) => {
    expect(globMatch(glob, text)).toBe(expected);
  });

  it("answers patterns that make backtracking regexes explode (O(glob × text), no regex)", () => {
    expect(globMatch(`${"*a".repeat(40)}*b`, "a".repeat(5000))).toBe(false);
    expect(globMatch(`${"*a".repeat(40)}*b`, `${"a".repeat(5000)}b`)).toBe(true);
  });
});

describe("scopes", () => {
  it("parses a space-separated string claim; any other form is null (refused), no claim is no scopes", () => {
    expect(parseScopes("publish:a  subscribe:* ")).toEqual(["publish:a", "subscribe:*"]);
    expect(parseScopes("kv:read:clé*")).toEqual(["kv:read:clé*"]);
    expect(parseScopes(undefined)).toEqual([]);
    expect(parseScopes("")).toEqual([]);
    for (const malformed of [
      ["admin"],
      ["admin", 3, ""],
      { scope: "admin" },
      7,
      null,
      "a\tb",
      "a\nb",
      "a\u00a0b",
      "a\u0000",
    ])
      expect(parseScopes(malformed), JSON.stringify(malformed)).toBeNull();
  });

  it("matches per action, with globs, and admin covers all", () => {
    const scopes = ["publish:orders.*", "subscribe:sensors.*", "kv:read:user-?-*", "kv:write:cfg"];
    expect(scopeAllows(scopes, "publish", "orders.eu")).toBe(true);
    expect(scopeAllows(scopes, "subscribe", "orders.eu")).toBe(false);
    expect(scopeAllows(scopes, "subscribe", "sensors.*")).toBe(true);
    expect(scopeAllows(scopes, "subscribe", "*")).toBe(false);
    expect(scopeAllows(scopes, "kv:read", "user-1-name")).toBe(true);
    expect(scopeAllows(scopes, "kv:read", "user-12-name")).toBe(false);
    expect(scopeAllows(scopes, "kv:write", "cfg")).toBe(true);
    expect(scopeAllows(scopes, "kv:read", "cfg")).toBe(false);
    expect(scopeAllows(["kv:*"], "kv:read", "x")).toBe(false);
    expect(scopeAllows(["publish"], "publish", "x")).toBe(false);
    expect(scopeAllows(["admin"], "kv:write", "anything")).toBe(true);
    expect(isAdmin(["admin"])).toBe(true);
    expect(isAdmin(["administrator"])).toBe(false);
  });
});

describe("pattern subscriptions", () => {
  it.each([
    // A glob `?` stands for one character: it must not let a pattern `*` (any run) or a whole class through.
    ["?", "*", false],
    ["sensor?", "sensor*", false],
    ["a?c", "a*c", false],
    ["sensor?", "sensor?", true],
    ["sensor?", "sensor[12]", true],
    ["sensor?", "sensor1", true],
    // A literal glob character must not match a character inside a class (`[^a]` matches "b").
    ["*a*", "[^a]", false],
    ["*-*", "[b-z]", false],
    ["[ab]*", "[ab]*", false],
    // A glob `*` covers any part of the pattern.
    ["*", "*", true],
    ["sensors.*", "sensors.*", true],
    ["sensors.*", "sensors.[ab]?x*", true],
    ["sensors.*", "*", false],
    ["*.eu", "orders.*.eu", true],
    ["*.eu", "orders.*", false],
  ])("subscribe:%s allows pattern=%s → %s", (glob, pattern, expected) => {
    expect(globCoversPattern(glob, pattern)).toBe(expected);
    expect(scopeAllowsPattern([`subscribe:${glob}`], pattern)).toBe(expected);
  });

  it("admin allows any pattern; other actions never do", () => {
    expect(scopeAllowsPattern(["admin"], "*")).toBe(true);
    expect(scopeAllowsPattern(["publish:*"], "a*")).toBe(false);
  });
});
