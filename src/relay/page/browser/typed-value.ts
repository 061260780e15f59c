import { json } from "../../../client/index.ts";

/** A form's text read as the chosen format, as the SDK should send it, or why it cannot be. */
export type TypedValue = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * "text": sent as it is (text/plain). "json": must parse, and is sent as JSON; a JSON string is wrapped with
 * the SDK's `json()`, since the SDK sends a bare string as text.
 */
export function parseTyped(text: string, format: string): TypedValue {
  if (format !== "json") return { ok: true, value: text };
  try {
    const value: unknown = JSON.parse(text);
    return { ok: true, value: typeof value === "string" ? json(value) : value };
  } catch (error) {
    return {
      ok: false,
      error: `not valid JSON (${error instanceof Error ? error.message : String(error)}); choose "text" to send it as is`,
    };
  }
}

/** Whether a stored value's content type is JSON. */
export function isJsonType(contentType: string): boolean {
  return /^application\/([\w.+-]+\+)?json\b/i.test(contentType);
}
