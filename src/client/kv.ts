import { encodeBody } from "./body.ts";
import { CLIENT_ERROR_CODES, RelayError } from "./errors.ts";
import type { Transport } from "./transport.ts";
import type { JsonValue } from "./types.ts";

export interface KvEntry<T = JsonValue> {
  key: string;
  /** Parsed JSON for `application/json` values, the text otherwise. */
  value: T;
  /** The raw stored text, exactly as Redis holds it. */
  text: string;
  contentType: string;
  /** Quoted ETag (`"<sha1>"`): pass it as `ifMatch` for compare-and-set. */
  etag: string;
}

export interface KvSetOptions {
  /** Write only if the current value has this ETag (compare-and-set); 412 `RelayError` otherwise. */
  ifMatch?: string;
  /** `"*"`: create only; 412 `RelayError` when the key exists. */
  ifNoneMatch?: "*";
  /** Expire after this many seconds. Without it any old TTL is cleared, as Redis SET does. */
  ttl?: number;
  signal?: AbortSignal;
}

export interface KvSetResult {
  key: string;
  etag: string;
  /** True when the key did not exist before (201), false when it was replaced (200). */
  created: boolean;
}

export interface KvListOptions {
  prefix?: string;
  /** Continue from a previous page's cursor ("0" or absent starts over). */
  cursor?: string;
  /** A hint: a page may hold fewer keys (even none) while `cursor` is not "0". */
  limit?: number;
  signal?: AbortSignal;
}

export interface KvListPage {
  keys: string[];
  /** "0" when the listing is complete. */
  cursor: string;
}

/** `/v1/kv`: ETag-aware key-value access. */
export class KvClient {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** The entry, or null when the key does not exist. */
  async get<T = JsonValue>(key: string, options: { signal?: AbortSignal } = {}): Promise<KvEntry<T> | null> {
    const response = await this.#transport.send({
      method: "GET",
      path: keyPath(key),
      signal: options.signal,
      retryable: true,
      accept: [404],
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    const text = await response.text();
    const contentType = response.headers.get("content-type") ?? "text/plain; charset=utf-8";
    const isJson = /^application\/([\w.+-]+\+)?json\b/i.test(contentType);
    return {
      key,
      value: (isJson ? parseStoredJson(key, text) : text) as T,
      text,
      contentType,
      etag: response.headers.get("etag") ?? "",
    };
  }

  /** Stores `value`: a string as text, anything else as JSON. */
  async set(key: string, value: unknown, options: KvSetOptions = {}): Promise<KvSetResult> {
    const { body, contentType } = encodeBody(value, "kv.set value");
    const headers: Record<string, string> = { "content-type": contentType };
    if (options.ifMatch !== undefined) headers["if-match"] = options.ifMatch;
    if (options.ifNoneMatch !== undefined) headers["if-none-match"] = options.ifNoneMatch;
    const response = await this.#transport.send({
      method: "PUT",
      path: keyPath(key),
      query: { ttl: options.ttl },
      headers,
      body,
      signal: options.signal,
    });
    const result = (await response.json()) as { key: string; etag: string };
    return { key: result.key, etag: result.etag, created: response.status === 201 };
  }

  /** Deletes the key; false when it did not exist. Honours `ifMatch`. */
  async delete(key: string, options: { ifMatch?: string; signal?: AbortSignal } = {}): Promise<boolean> {
    const response = await this.#transport.send({
      method: "DELETE",
      path: keyPath(key),
      headers: options.ifMatch === undefined ? {} : { "if-match": options.ifMatch },
      signal: options.signal,
      accept: [404],
    });
    await response.body?.cancel();
    return response.status !== 404;
  }

  /** One page of keys (SCAN semantics). */
  list(options: KvListOptions = {}): Promise<KvListPage> {
    return this.#transport.json<KvListPage>({
      method: "GET",
      path: "v1/kv",
      query: { prefix: options.prefix, cursor: options.cursor, limit: options.limit },
      signal: options.signal,
      retryable: true,
    });
  }

  /** Every key (optionally under `prefix`), page after page. */
  async *keys(options: Omit<KvListOptions, "cursor"> = {}): AsyncGenerator<string> {
    let cursor = "0";
    do {
      const page = await this.list({ ...options, cursor });
      yield* page.keys;
      cursor = page.cursor;
    } while (cursor !== "0");
  }
}

/** The relay labels a value JSON only when it is; if that ever fails, say so instead of a bare SyntaxError. */
function parseStoredJson(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new RelayError({
      code: CLIENT_ERROR_CODES.badResponse,
      status: 200,
      detail: `key ${JSON.stringify(key)} is served as application/json but is not valid JSON: ${text.slice(0, 100)}`,
      cause,
    });
  }
}

function keyPath(key: string): string {
  if (typeof key !== "string" || key.length === 0) throw new TypeError("key must be a non-empty string");
  return `v1/kv/${encodeURIComponent(key)}`;
}
