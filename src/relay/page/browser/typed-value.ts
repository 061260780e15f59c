/** A form's text read as the chosen format: JSON must parse; text is taken as it is. */
export type TypedValue = { ok: true; value: unknown } | { ok: false; error: string };

export function parseTyped(text: string, format: string): TypedValue {
  if (format !== "json") return { ok: true, value: text };
  try {
    return { ok: true, value: JSON.parse(text) };
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
