/**
 * How deeply JSON text nests arrays and objects, counted without parsing (strings are skipped). The relay
 * refuses to publish JSON nested deeper than MAX_JSON_DEPTH: JSON.stringify and zod recurse per level and
 * overflow the stack a few thousand levels down, so such a message would break every read of its channel.
 */
export const MAX_JSON_DEPTH = 512;

export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) {
      depth += 1;
      if (depth > deepest) deepest = depth;
    } else if (char === 0x5d || char === 0x7d) depth -= 1;
  }
  return deepest;
}
