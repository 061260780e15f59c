/**
 * RFC 9457 problem details. Every error response of the relay is one of these, with a stable `code`.
 * The list below is the whole vocabulary; clients switch on `code`, never on `title` or `detail`.
 */
export const PROBLEMS = {
  unauthorized: { status: 401, title: "Unauthorized" },
  token_expired: { status: 401, title: "Token expired" },
  forbidden: { status: 403, title: "Forbidden" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  wrong_type: { status: 409, title: "Wrong Redis type" },
  precondition_failed: { status: 412, title: "Precondition failed" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  invalid_name: { status: 400, title: "Invalid name" },
  invalid_cursor: { status: 400, title: "Invalid cursor" },
  invalid_parameter: { status: 400, title: "Invalid parameter" },
  invalid_header: { status: 400, title: "Invalid header" },
  invalid_utf8: { status: 400, title: "Invalid UTF-8" },
  invalid_json: { status: 400, title: "Invalid JSON" },
  invalid_body: { status: 400, title: "Invalid body" },
  cross_slot: { status: 400, title: "Batch spans Redis Cluster slots" },
  redis_unavailable: { status: 503, title: "Redis unavailable" },
  outcome_unknown: { status: 504, title: "Outcome unknown" },
  internal: { status: 500, title: "Internal error" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
const PROBLEM_TYPE_PREFIX = "urn:edge-relay:problem:";

export interface Problem {
  /** `urn:edge-relay:problem:<code>` */
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  /** Extra machine-readable members, e.g. the offending field. */
  [extension: string]: unknown;
}

export function problem(
  code: ProblemCode,
  detail: string,
  extensions: Record<string, unknown> = {},
): Problem {
  const { status, title } = PROBLEMS[code];
  return { ...extensions, type: `${PROBLEM_TYPE_PREFIX}${code}`, title, status, detail, code };
}

/** Thrown anywhere in the relay; the app's error handler turns it into the problem response. */
export class ProblemError extends Error {
  override name = "ProblemError";
  readonly problem: Problem;
  readonly headers: Record<string, string>;
  constructor(
    code: ProblemCode,
    detail: string,
    options: { extensions?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(`${code}: ${detail}`);
    this.problem = problem(code, detail, options.extensions);
    this.headers = options.headers ?? {};
  }
  get status(): number {
    return this.problem.status;
  }
}

export function problemResponse(value: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), {
    status: value.status,
    headers: { ...headers, "content-type": PROBLEM_CONTENT_TYPE },
  });
}

export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const code = (value as { code?: unknown }).code;
  return typeof code === "string" && code in PROBLEMS;
}
