/**
 * A matcher for a Redis PSUBSCRIBE glob (`*`, `?`, `[...]` with `^` negation and ranges), so the relay can
 * tell which channels of a resume cursor a pattern stream covers. Patterns are validated before they get here
 * (only channel characters and `*?[]^`), so the translation needs no other escaping.
 */
export function patternMatcher(pattern: string): (channel: string) => boolean {
  let source = "";
  let inClass = false;
  for (const char of pattern) {
    if (inClass) {
      source += char === "]" ? "]" : char === "\\" ? "\\\\" : char;
      if (char === "]") inClass = false;
    } else if (char === "*") source += "[^]*";
    else if (char === "?") source += "[^]";
    else if (char === "[") {
      source += "[";
      inClass = true;
    } else source += char.replace(/[.^$+(){}|\\/-]/g, "\\$&");
  }
  const regex = new RegExp(`^${source}$`, "s");
  return (channel) => regex.test(channel);
}
