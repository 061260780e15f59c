import { describe, expect, it } from "vitest";
import { BRACE_KEYS } from "../../../test/scenarios/brace-keys.ts";
import { hashTag, keySlot, SLOTS, slotTag } from "../../protocol/key-slot.ts";
import { kvKeys } from "./keys.ts";

describe("keySlot", () => {
  it("is Redis's CRC16-XMODEM mod 16384 (known values)", () => {
    expect(keySlot("123456789")).toBe(0x31c3);
    expect(keySlot("foo")).toBe(12182);
    expect(keySlot("bar")).toBe(5061);
  });
  it("hashes only a non-empty tag between the first { and the first } after it", () => {
    expect(keySlot("{user1000}.following")).toBe(keySlot("user1000"));
    expect(keySlot("x{a}y{b}")).toBe(keySlot("a"));
    expect(keySlot("a{}b}c")).not.toBe(keySlot("b"));
    expect(hashTag("a{}b}c")).toBeUndefined();
    expect(hashTag("{{x}}")).toBe("{x");
    expect(hashTag("a}b{c")).toBeUndefined();
  });
  it("hashes the UTF-8 bytes of the key", () => {
    // crc16 of the UTF-8 bytes of "é" (0xc3 0xa9), not of the UTF-16 code unit
    expect(keySlot("é")).not.toBe(keySlot("\u00e9".normalize("NFD")));
    expect(keySlot("{é}x")).toBe(keySlot("é"));
  });
});

describe("slotTag", () => {
  it("is the first base-36 string of each slot; every slot has one within four characters", () => {
    // Walk the candidates once in order: the first hit per slot is what slotTag must return.
    const first = new Map<number, string>();
    for (let n = 0; n < 36 ** 4 && first.size < SLOTS; n++) {
      const tag = n.toString(36);
      const slot = keySlot(tag);
      if (!first.has(slot)) first.set(slot, tag);
    }
    expect(first.size).toBe(SLOTS);
    for (let slot = 0; slot < SLOTS; slot += 97) expect(slotTag(slot)).toBe(first.get(slot));
    expect(slotTag(SLOTS - 1)).toBe(first.get(SLOTS - 1));
  });
  it("rejects what is not a slot", () => {
    expect(() => slotTag(SLOTS)).toThrow(RangeError);
    expect(() => slotTag(-1)).toThrow(RangeError);
  });
});

describe("kvKeys", () => {
  it("keeps relay:{<key>}:meta for keys without }", () => {
    expect(kvKeys("", "config")).toEqual({ value: "config", meta: "relay:{config}:meta" });
    expect(kvKeys("app:", "a{b")).toEqual({ value: "app:a{b", meta: "relay:{app:a{b}:meta" });
  });
  it("puts the meta hash in the value's slot for any key shape", () => {
    for (const key of BRACE_KEYS)
      for (const prefix of ["", "p:", "{t}"]) {
        const { value, meta } = kvKeys(prefix, key);
        expect(value).toBe(`${prefix}${key}`);
        expect(meta.startsWith("relay:{")).toBe(true);
        if (keySlot(meta) !== keySlot(value))
          throw new Error(`${JSON.stringify(value)}: meta ${meta} elsewhere`);
      }
  });
  it("names different keys' meta hashes differently, also when they share a slot", () => {
    const metas = BRACE_KEYS.map((key) => kvKeys("", key).meta);
    expect(new Set(metas).size).toBe(metas.length);
    expect(kvKeys("", "a{t}b").meta).not.toBe(kvKeys("", "c{t}d").meta);
  });
});
