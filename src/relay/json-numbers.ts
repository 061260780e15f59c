import { parseJsonKeepingNumbers } from "../protocol/exact-json.ts";

/**
 * JSON numbers a double cannot carry (an integer past 2^53 such as a 64-bit id, or 1e400) keep the sender's
 * text: they are wrapped in `JSON.rawJSON`, so `JSON.stringify` writes the same digits back. `-0` stays a
 * double (its text is valid JSON either way). Where `JSON.rawJSON` is missing, numbers stay doubles.
 */
const rawJson = (JSON as { rawJSON?: (text: string) => unknown }).rawJSON;

const keepDigits = (source: string): unknown =>
  rawJson === undefined || source === "-0" ? undefined : rawJson(source);

/** `JSON.parse(text)` that keeps the digits of numbers a double would change; throws as JSON.parse does. */
export function parseJsonExact(text: string): unknown {
  return parseJsonKeepingNumbers(text, keepDigits);
}
