/**
 * JSON numbers a double cannot carry (an integer past 2^53 such as a 64-bit id, or 1e400) keep the sender's
 * text: `JSON.parse` with source text access wraps them in `JSON.rawJSON`, so `JSON.stringify` writes the same
 * digits back. Everything else parses as usual. Needs both features (workerd, Deno, Node 21+); elsewhere
 * numbers stay doubles.
 */
const rawJson = (JSON as { rawJSON?: (text: string) => unknown }).rawJSON;
const INTEGER_LITERAL = /^-?\d+$/;

function keepExactNumbers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== "number" || rawJson === undefined || context?.source === undefined) return value;
  const source = context.source;
  const inexact = !Number.isFinite(value) || (INTEGER_LITERAL.test(source) && String(value) !== source);
  return inexact && source !== "-0" ? rawJson(source) : value;
}

/** `JSON.parse(text)` that keeps the digits of numbers a double would change; throws as JSON.parse does. */
export function parseJsonExact(text: string): unknown {
  try {
    return JSON.parse(text, keepExactNumbers);
  } catch (error) {
    // The reviver walk recurses (a few thousand levels deep overflow the stack) where JSON.parse alone does not:
    // deeply nested JSON is still JSON, parsed without the exact numbers. Invalid JSON throws again here.
    if (error instanceof RangeError) return JSON.parse(text);
    throw error;
  }
}
