import { discardResponse, readText, unlessAborted } from "./abort.ts";
import { backoffDelay, sleep } from "./backoff.ts";
import { CLIENT_ERROR_CODES, errorFromResponse, RelayError } from "./errors.ts";

/** A fetch-compatible function: the global one, or a runtime-specific one (a Workers service binding, a test double). */
export type FetchLike = (input: Request) => Promise<Response>;

export interface ClientOptions {
  /** Base URL of the relay, e.g. `https://relay.example.com` (a path prefix is kept). */
  url: string;
  /** A fixed bearer token (a JWT minted with `relay token`). */
  token?: string;
  /** Called before every request and reconnect, so a fresh token can be handed over; may cache. */
  getToken?: () => string | Promise<string>;
  /** fetch to use (default: the global `fetch`). */
  fetch?: FetchLike;
  /**
   * Retries for requests that are safe to repeat: GETs and publishes (which carry an Idempotency-Key), after a
   * network error, 429, 502, 503 (`redis_unavailable`) or 504 (`outcome_unknown`). Default 3.
   */
  retries?: number;
  /** Longest wait before one retry in ms, `Retry-After` included (default 10000). */
  retryMaxDelayMs?: number;
}

export const DEFAULT_RETRIES = 3;
const DEFAULT_RETRY_MAX_DELAY_MS = 10_000;

export type QueryValue = string | number | boolean | undefined | readonly string[];

export interface RequestSpec {
  method: "GET" | "PUT" | "POST" | "DELETE";
  path: string;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Safe to send again after a network error or a 5xx/429 (the request is idempotent). */
  retryable?: boolean;
  /** Non-2xx statuses handed back to the caller instead of thrown (e.g. 404 for `kv.get`). */
  accept?: readonly number[];
}

/**
 * Statuses worth retrying: overload and gateway trouble, never a client mistake. 503 `redis_unavailable`
 * means nothing ran; 504 `outcome_unknown` means it may have: only requests safe to repeat are retried.
 */
const RETRY_STATUSES = new Set([429, 502, 503, 504]);

/**
 * The one place that talks HTTP to the relay: base URL, auth, retries, and turning every failure
 * into a RelayError. A 401 triggers one fresh `getToken()` call before giving up.
 */
export class Transport {
  readonly baseUrl: URL;
  readonly #options: ClientOptions;
  readonly #fetch: FetchLike;

  constructor(options: ClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch (cause) {
      throw new RelayError({
        code: CLIENT_ERROR_CODES.invalidOptions,
        status: 0,
        detail: `url is not a valid URL: ${JSON.stringify(options.url)}`,
        cause,
      });
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new RelayError({
        code: CLIENT_ERROR_CODES.invalidOptions,
        status: 0,
        detail: `url must be http(s), got ${JSON.stringify(options.url)}`,
      });
    }
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    this.baseUrl = base;
    this.#options = options;
    // Bound lazily so a polyfilled or test-replaced global fetch is honoured.
    this.#fetch = options.fetch ?? ((request) => fetch(request));
  }

  /** The token for the next request, or undefined when the client has none (RELAY_AUTH=none). */
  async token(): Promise<string | undefined> {
    if (this.#options.getToken) return await this.#options.getToken();
    return this.#options.token;
  }

  get canRefreshToken(): boolean {
    return this.#options.getToken !== undefined;
  }

  url(path: string, query: Record<string, QueryValue> = {}): URL {
    const url = new URL(path.replace(/^\//, ""), this.baseUrl);
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const item of value) url.searchParams.append(name, item);
      else url.searchParams.set(name, String(value));
    }
    return url;
  }

  /** One HTTP exchange with no retry: the building block for streams and long-polls. */
  async fetchOnce(spec: RequestSpec, token: string | undefined): Promise<Response> {
    const url = this.url(spec.path, spec.query);
    const headers = new Headers(spec.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    const request = new Request(url, { method: spec.method, headers, body: spec.body, signal: spec.signal });
    try {
      // Not only through `request`: Node links its signal to fetch weakly (see abort.ts).
      return await unlessAborted(this.#fetch(request), spec.signal, discardResponse);
    } catch (cause) {
      if (spec.signal?.aborted) throw cause;
      throw new RelayError({
        code: CLIENT_ERROR_CODES.network,
        status: 0,
        detail: `could not reach the relay: ${cause instanceof Error ? cause.message : String(cause)}`,
        request: describe(spec.method, url),
        cause,
      });
    }
  }

  /** Sends a request with auth and retries; resolves with a 2xx (or accepted) response, else throws RelayError. */
  async send(spec: RequestSpec): Promise<Response> {
    const retries = spec.retryable ? (this.#options.retries ?? DEFAULT_RETRIES) : 0;
    const maxDelayMs = this.#options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
    const delay = (attempt: number, response?: Response) =>
      Math.min(
        (response && retryAfterMs(response)) ?? backoffDelay(attempt, { initialMs: 100, maxMs: maxDelayMs }),
        maxDelayMs,
      );
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const token = await this.token();
      let response: Response;
      try {
        response = await this.fetchOnce(spec, token);
      } catch (error) {
        if (error instanceof RelayError && attempt < retries) {
          await sleep(delay(attempt), spec.signal);
          continue;
        }
        throw error;
      }
      if (response.ok || spec.accept?.includes(response.status)) return response;
      if (response.status === 401 && this.canRefreshToken && !refreshed) {
        // The token may have expired between getToken() calls: ask once more, then give up.
        refreshed = true;
        await response.body?.cancel();
        attempt--;
        continue;
      }
      if (RETRY_STATUSES.has(response.status) && attempt < retries) {
        await response.body?.cancel();
        await sleep(delay(attempt, response), spec.signal);
        continue;
      }
      throw await errorFromResponse(response, describe(spec.method, this.url(spec.path, spec.query)));
    }
  }

  /** `send` and parse the JSON body (an abort also stops the body read: a long-poll's body can be slow). */
  async json<T>(spec: RequestSpec): Promise<T> {
    const response = await this.send(spec);
    return (await readJson(
      response,
      describe(spec.method, this.url(spec.path, spec.query)),
      spec.signal,
    )) as T;
  }
}

/** Parses a JSON body, or throws `bad_response` naming the request. */
export async function readJson(response: Response, request: string, signal?: AbortSignal): Promise<unknown> {
  const text = await readText(response, signal);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new RelayError({
      code: CLIENT_ERROR_CODES.badResponse,
      status: response.status,
      detail: `expected JSON, got ${JSON.stringify(text.slice(0, 200))}`,
      request,
      cause,
    });
  }
}

/** `Retry-After` in ms (seconds form only), capped at 30 s. */
export function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  if (!header || !/^\d+$/.test(header.trim())) return undefined;
  return Math.min(Number(header) * 1000, 30_000);
}

/** "GET https://relay/v1/..." without the query's access_token, for error messages. */
export function describe(method: string, url: URL): string {
  const safe = new URL(url);
  if (safe.searchParams.has("access_token")) safe.searchParams.set("access_token", "***");
  return `${method} ${safe.toString()}`;
}
