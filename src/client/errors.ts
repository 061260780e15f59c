import type { ProblemCode } from "../protocol/problems.ts";

/** Client-side codes (the relay's own codes come from its problem documents). */
export const CLIENT_ERROR_CODES = {
  /** fetch failed: DNS, refused connection, reset stream, TLS. */
  network: "network_error",
  /** The relay answered something that is not the documented shape. */
  badResponse: "bad_response",
  /** SSE is buffered by a proxy and long-poll cannot serve pattern subscriptions. */
  streamBuffered: "stream_buffered",
  /** createClient got options it cannot work with. */
  invalidOptions: "invalid_options",
} as const;

export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[keyof typeof CLIENT_ERROR_CODES];

/** Codes a RelayError can carry: the relay's problem codes, the client's own, or `http_<status>` from a non-relay answer. */
export type RelayErrorCode = ProblemCode | ClientErrorCode | (string & {});

/**
 * The one error type the client throws. Relay failures carry the problem document's fields
 * (RFC 9457: `code`, `status`, `detail`); failures that never reached the relay use `status: 0`.
 */
export class RelayError extends Error {
  /** Stable machine code: the problem's `code`, or a client-side one such as `network_error`. */
  readonly code: RelayErrorCode;
  /** HTTP status of the relay's answer; 0 when no answer arrived. */
  readonly status: number;
  /** Human-readable explanation of what happened. */
  readonly detail: string;
  /** The problem's `title`, when the relay sent one. */
  readonly title: string | undefined;
  /** The problem's `type` URI, when the relay sent one. */
  readonly type: string | undefined;
  /** Method and URL of the request that failed (never includes a token). */
  readonly request: string | undefined;

  constructor(init: {
    code: RelayErrorCode;
    status: number;
    detail: string;
    title?: string;
    type?: string;
    request?: string;
    cause?: unknown;
  }) {
    super(
      `${init.request ? `${init.request}: ` : ""}${init.status ? `${init.status} ` : ""}${init.code}: ${init.detail}`,
      {
        cause: init.cause,
      },
    );
    this.name = "RelayError";
    this.code = init.code;
    this.status = init.status;
    this.detail = init.detail;
    this.title = init.title;
    this.type = init.type;
    this.request = init.request;
  }
}

/** Builds a RelayError from a non-2xx response, reading its problem+json body when there is one. */
export async function errorFromResponse(response: Response, request: string): Promise<RelayError> {
  const text = await response.text().catch(() => "");
  let problem: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      problem = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: a proxy or load balancer answered; keep the text as the detail.
  }
  const field = (name: string) =>
    typeof problem?.[name] === "string" ? (problem[name] as string) : undefined;
  return new RelayError({
    code: field("code") ?? `http_${response.status}`,
    status: response.status,
    detail: field("detail") ?? field("title") ?? (text.slice(0, 500) || response.statusText || "no body"),
    title: field("title"),
    type: field("type"),
    request,
  });
}
