/**
 * How the SDK sends a value: a string goes as `text/plain` (stored and delivered unchanged),
 * anything else as compact JSON. Wrap a string with `json()` to send it as a JSON string instead.
 */
export interface EncodedBody {
  body: string;
  contentType: string;
}

const JSON_STRING = Symbol("relay.jsonString");

/** Marks a string to be sent as JSON (`"hello"`) rather than as text (`hello`). */
export interface JsonString {
  readonly [JSON_STRING]: string;
}

export function json(value: string): JsonString {
  return { [JSON_STRING]: value };
}

export function encodeBody(value: unknown, what: string): EncodedBody {
  if (typeof value === "string") return { body: value, contentType: "text/plain; charset=utf-8" };
  if (value && typeof value === "object" && JSON_STRING in value) {
    return { body: JSON.stringify((value as JsonString)[JSON_STRING]), contentType: "application/json" };
  }
  const body = value === undefined ? undefined : JSON.stringify(value);
  if (body === undefined)
    throw new TypeError(`${what} must be a string or a JSON-serialisable value, got ${typeof value}`);
  return { body, contentType: "application/json" };
}
