/**
 * `JSON.parse` that does not round numbers silently. A JSON number becomes a double, which cannot hold every
 * integer past 2^53 (`12345678901234567890` would become `12345678901234567000`) nor 1e400 (Infinity). With
 * source text access (workerd, Deno, Node 21+) the reviver sees each number's text: where the double would
 * change an integer, or is not finite, `keep(text)` decides what the value becomes (the relay keeps the digits
 * with `JSON.rawJSON`; the proxy passes the text on as the Redis argument). Without source text access, numbers
 * stay doubles. Used by the relay (src/relay/json-numbers.ts) and the proxy (src/proxy/request-body.ts).
 */
const INTEGER_LITERAL = /^-?\d+$/;

/** The number's text when its double would not write it back (an integer past 2^53, or not finite). */
export function inexactNumberText(value: number, source: string | undefined): string | undefined {
  if (source === undefined) return undefined;
  if (!Number.isFinite(value)) return source;
  return INTEGER_LITERAL.test(source) && String(value) !== source ? source : undefined;
}

/**
 * Parses `text`; numbers a double would change become `keep(text)` (or stay the double when it answers
 * undefined). Throws as JSON.parse does.
 */
export function parseJsonKeepingNumbers(text: string, keep: (source: string) => unknown): unknown {
  const reviver = (_key: string, value: unknown, context?: { source?: string }): unknown => {
    if (typeof value !== "number") return value;
    const source = inexactNumberText(value, context?.source);
    if (source === undefined) return value;
    return keep(source) ?? value;
  };
  try {
    return JSON.parse(text, reviver);
  } catch (error) {
    // The reviver walk recurses (a few thousand levels deep overflow the stack) where JSON.parse alone does not:
    // deeply nested JSON is still JSON, parsed without the exact numbers. Invalid JSON throws again here.
    if (error instanceof RangeError) return JSON.parse(text);
    throw error;
  }
}
