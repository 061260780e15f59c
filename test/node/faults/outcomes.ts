/**
 * What the relay may answer under a fault, per docs/api.md: 503 `redis_unavailable` (retry with the same
 * Idempotency-Key), or a 5xx saying the outcome is unknown (retry with the key is safe; issue 8 adds that code,
 * so any code containing "unknown" is accepted). Never 500 `internal`. The same holds for reads (SSE,
 * long-poll), which retry on these too.
 */
export function isRetryableProblem(status: number, code: string | undefined): boolean {
  if (status === 503 && code === "redis_unavailable") return true;
  return status >= 500 && code !== undefined && code.includes("unknown");
}

/** The `code` of an application/problem+json body, if it is one. */
export function problemCodeOf(response: Response, text: string): string | undefined {
  if (!response.headers.get("content-type")?.includes("application/problem+json")) return undefined;
  try {
    const code = (JSON.parse(text) as { code?: unknown }).code;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  }
}
