/**
 * Redis Cluster's key → slot mapping (CRC16-XMODEM of the key's hash tag, or of the whole key, mod 16384), as
 * Redis computes it: the tag is what lies between the first `{` and the first `}` after it, used only when
 * non-empty. Written out rather than taken from `cluster-key-slot` because that package hashes `a{}b}c` by `b`
 * where Redis hashes the whole key. Pure (runs in workerd, Deno and Node); checked against a real cluster's
 * `CLUSTER KEYSLOT` in test/node/cluster/key-slot.test.ts.
 */
export const SLOTS = 16384;

const CRC_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

const utf8 = new TextEncoder();
const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++)
    crc = ((crc << 8) & 0xffff) ^ (CRC_TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number);
  return crc;
}

/** The key's hash tag as Redis reads it, or undefined when the whole key is hashed. */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf("{");
  if (open === -1) return undefined;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/** The cluster slot (0-16383) Redis assigns to `key` (text, or raw bytes as the proxy receives them). */
export function keySlot(key: string | Uint8Array): number {
  const bytes = typeof key === "string" ? utf8.encode(key) : key;
  const open = bytes.indexOf(OPEN);
  if (open !== -1) {
    const close = bytes.indexOf(CLOSE, open + 1);
    if (close > open + 1) return crc16(bytes, open + 1, close) % SLOTS;
  }
  return crc16(bytes, 0, bytes.length) % SLOTS;
}

/** keySlot for a brace-free ASCII string, without encoding it (the slotTag search runs it ~16k times). */
function asciiSlot(text: string): number {
  let crc = 0;
  for (let i = 0; i < text.length; i++)
    crc = ((crc << 8) & 0xffff) ^ (CRC_TABLE[((crc >> 8) ^ text.charCodeAt(i)) & 0xff] as number);
  return crc % SLOTS;
}

const slotTags = new Map<number, string>();

/**
 * The shortest base-36 string (`0`, `1`, …, `z`, `10`, …; no braces) that Redis maps to `slot`: a hash tag that
 * puts a companion key in a slot chosen by another key. Deterministic, so any language finds the same tag
 * (docs/data-model.md gives the Python); every slot has one within four characters. The search tries about
 * 16k candidates on average (well under a millisecond), 87,574 for the farthest slot, and is cached per slot.
 */
export function slotTag(slot: number): string {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) throw new RangeError(`no cluster slot ${slot}`);
  const known = slotTags.get(slot);
  if (known !== undefined) return known;
  for (let n = 0; ; n++) {
    const tag = n.toString(36);
    if (asciiSlot(tag) === slot) {
      slotTags.set(slot, tag);
      return tag;
    }
  }
}
