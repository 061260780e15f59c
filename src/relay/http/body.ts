import { ProblemError } from "../../protocol/problems.ts";
import { parseJsonExact } from "../json-numbers.ts";

/**
 * Request bodies: bounded, UTF-8 only, JSON or text/*. The checks run in the contract's order
 * (413 before 415 before 400), and nothing is written before all of them pass.
 */

export interface TextBody {
  /** The body decoded as UTF-8, unchanged (a BOM is kept). */
  text: string;
  kind: "json" | "text";
  /** The content type to remember: `application/json` or `<text/*>; charset=utf-8`. */
  contentType: string;
}

/** Reads at most `maxBytes` of the body; 413 as soon as it is known to be larger. */
export async function readBoundedBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes)
    throw tooLarge(maxBytes, Number(declared));
  // A declared length bounds what the HTTP layer reads: take it whole (on Node, @hono/node-server then reads the
  // socket directly instead of building a web Request and stream around it; asking for `.body` would build them).
  if (declared !== null && /^\d+$/.test(declared)) return new Uint8Array(await request.arrayBuffer());
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function tooLarge(maxBytes: number, declared?: number): ProblemError {
  const got = declared === undefined ? "more" : `${declared} bytes`;
  return new ProblemError(
    "payload_too_large",
    `the body may be at most ${maxBytes} bytes (RELAY_MAX_BODY); got ${got}`,
    {
      extensions: { limit: maxBytes },
    },
  );
}

/**
 * Classifies a Content-Type header: `application/json` → json, `text/*` → text; a charset other than
 * UTF-8 or any other type is a 415 (the Upstash REST protocol carries text, not bytes).
 */
export function classifyContentType(
  header: string | null,
  accepted: "json" | "json-or-text",
): Omit<TextBody, "text"> {
  const expected = accepted === "json" ? "application/json" : "application/json or text/* (UTF-8)";
  if (header === null || header.trim() === "") {
    throw new ProblemError("unsupported_media_type", `a Content-Type header is required: ${expected}`);
  }
  const [rawType = "", ...params] = header.split(";");
  const mediaType = rawType.trim().toLowerCase();
  for (const param of params) {
    const [name = "", value = ""] = param.split("=").map((part) => part.trim().toLowerCase());
    if (name === "charset" && value.replaceAll('"', "") !== "utf-8" && value.replaceAll('"', "") !== "utf8") {
      throw new ProblemError(
        "unsupported_media_type",
        `only UTF-8 is accepted; got charset=${value.slice(0, 40)}`,
      );
    }
  }
  if (mediaType === "application/json") return { kind: "json", contentType: "application/json" };
  if (accepted === "json-or-text" && /^text\/[a-z0-9!#$&^_.+-]{1,100}$/.test(mediaType)) {
    return { kind: "text", contentType: `${mediaType}; charset=utf-8` };
  }
  throw new ProblemError(
    "unsupported_media_type",
    `Content-Type ${JSON.stringify(header.slice(0, 100))} is not accepted: send ${expected}`,
  );
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new ProblemError("invalid_utf8", "the body is not valid UTF-8 (the relay stores text, not bytes)");
  }
}

export function parseJson(text: string): unknown {
  try {
    return parseJsonExact(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : "parse error";
    throw new ProblemError("invalid_json", `the body is not valid JSON: ${reason}`);
  }
}

/** Reads a body for KV or publish: bounded (413), typed (415), UTF-8 (400), JSON-validated when JSON (400). */
export async function readTextBody(
  request: Request,
  maxBytes: number,
  accepted: "json" | "json-or-text",
): Promise<TextBody & { json?: unknown }> {
  const bytes = await readBoundedBody(request, maxBytes);
  const type = classifyContentType(request.headers.get("content-type"), accepted);
  const text = decodeUtf8(bytes);
  if (type.kind === "json") return { ...type, text, json: parseJson(text) };
  return { ...type, text };
}
