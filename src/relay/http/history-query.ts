import type * as z from "zod";
import { MAX_COMPOUND_CURSOR_LENGTH } from "../../protocol/cursor.ts";
import { historyQuerySchema, MAX_HISTORY_LIMIT, MAX_WAIT_SECONDS } from "../../protocol/schemas.ts";
import { parseOrThrow } from "./params.ts";

export type HistoryQuery = z.output<typeof historyQuerySchema>;

/**
 * The query of `GET /v1/channels/:channel/messages` (`after`, `limit`, `wait`; docs/api.md), validated as
 * historyQuerySchema does. A long-poll loop sends one per poll, so plainly valid values, the common case, are
 * read without zod's per-parse work; anything else goes through the schema for its error. The two agree on
 * every input (history-query.test.ts).
 */
export function historyQuery(raw: Record<string, string>): HistoryQuery {
  return plainHistoryQuery(raw) ?? parseOrThrow(historyQuerySchema, raw, "invalid_parameter");
}

/** The query when every value is valid, undefined otherwise (other names are ignored, as the schema strips them). */
export function plainHistoryQuery(raw: Record<string, string | undefined>): HistoryQuery | undefined {
  const { after, limit, wait } = raw;
  if (after !== undefined && after.length > MAX_COMPOUND_CURSOR_LENGTH) return undefined;
  const limitValue = limit === undefined ? undefined : integer(limit, 1, MAX_HISTORY_LIMIT);
  const waitValue = wait === undefined ? undefined : integer(wait, 0, MAX_WAIT_SECONDS);
  if (limitValue === null || waitValue === null) return undefined;
  const query: HistoryQuery = {};
  if (after !== undefined) query.after = after;
  if (limitValue !== undefined) query.limit = limitValue;
  if (waitValue !== undefined) query.wait = waitValue;
  return query;
}

/** integerParam's rule (schemas.ts): 1-10 decimal digits, within [min, max]; null otherwise. */
function integer(text: string, min: number, max: number): number | null {
  if (!/^\d{1,10}$/.test(text)) return null;
  const value = Number(text);
  return value >= min && value <= max ? value : null;
}
