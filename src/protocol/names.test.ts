import { describe, expect, it } from "vitest";
import {
  channelNameSchema,
  channelPatternSchema,
  eventNameSchema,
  IDEMPOTENCY_KEY_REGEX,
  kvKeySchema,
} from "./names.ts";

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) =>
  schema.safeParse(value).success;

describe("names", () => {
  it("channels: 1-200 of A-Z a-z 0-9 _ . : -", () => {
    expect(ok(channelNameSchema, "orders.eu:1_x-y")).toBe(true);
    expect(ok(channelNameSchema, "c".repeat(200))).toBe(true);
    for (const bad of ["", "c".repeat(201), "a b", "a\nb", "a\r", "a*", "a?", "é", "a/b", 5])
      expect(ok(channelNameSchema, bad)).toBe(false);
  });

  it("channels and patterns under relay: are reserved (the relay's own keys and pub/sub channels)", () => {
    for (const good of ["relay", "Relay:x", "x.relay:", "relayx"]) {
      expect(ok(channelNameSchema, good)).toBe(true);
      expect(ok(channelPatternSchema, good)).toBe(true);
    }
    for (const bad of ["relay:", "relay:x", "relay:{x}:live"]) {
      expect(ok(channelNameSchema, bad)).toBe(false);
      expect(ok(channelPatternSchema, bad)).toBe(false);
    }
    expect(ok(channelPatternSchema, "relay:*")).toBe(false);
    const issue = channelNameSchema.safeParse("relay:x").error?.issues[0]?.message;
    expect(issue).toMatch(/reserved/);
  });

  it("idempotency keys: 1-200 visible ASCII characters without { or }", () => {
    for (const good of ["a", "k".repeat(200), "a:meta|~!", "550e8400-e29b-41d4-a716-446655440000"])
      expect(IDEMPOTENCY_KEY_REGEX.test(good)).toBe(true);
    for (const bad of ["", "k".repeat(201), "a}:meta", "{a", "a b", "é", "a\u007f"])
      expect(IDEMPOTENCY_KEY_REGEX.test(bad), JSON.stringify(bad)).toBe(false);
  });

  it("patterns add * ? [...] and need balanced brackets", () => {
    for (const good of ["sensors.*", "*", "a?c", "room.[ab]", "room.[^a]"])
      expect(ok(channelPatternSchema, good)).toBe(true);
    for (const bad of ["", "a[b", "a]b", "a[[b]]", "a\nb", "a b"])
      expect(ok(channelPatternSchema, bad)).toBe(false);
  });

  it("events: 1-64 of the channel characters, `reset` reserved", () => {
    expect(ok(eventNameSchema, "created.v2")).toBe(true);
    for (const bad of ["reset", "", "e".repeat(65), "a\nb", "a b"])
      expect(ok(eventNameSchema, bad)).toBe(false);
  });

  it("keys: 1-512 UTF-8 bytes, no whitespace or control characters, never relay:", () => {
    for (const good of [
      "a",
      "dir/sub/key",
      "clé-😀",
      "k".repeat(512),
      "{tag}",
      "relay",
      "Relay:x",
      "x:relay:",
    ])
      expect(ok(kvKeySchema, good)).toBe(true);
    for (const bad of [
      "",
      "k".repeat(513),
      "é".repeat(257),
      "a b",
      "a\tb",
      "a\r\nb",
      "a\u0000",
      "a\u007f",
      "a\u0085",
      "a\u00a0",
      "a\u2028",
      "a\u3000",
      "relay:x",
      "relay:",
      "\ud800",
    ]) {
      expect(ok(kvKeySchema, bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
