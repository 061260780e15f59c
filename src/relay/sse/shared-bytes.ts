const encoder = new TextEncoder();
let lastText = "";
let lastBytes = new Uint8Array(0);

/**
 * UTF-8 of `text`, reusing the last result when the same frame is written again: a delivery to N subscribers of
 * one channel encodes its frame once. The bytes are only ever read (enqueued or written to a socket), never
 * changed, so sharing is safe.
 */
export function encodeShared(text: string): Uint8Array {
  if (text !== lastText) {
    lastBytes = encoder.encode(text);
    lastText = text;
  }
  return lastBytes;
}
