import type { Context } from "hono";
import type * as z from "zod";
import {
  CHANNEL_REGEX,
  channelNameSchema,
  isReservedName,
  kvKeySchema,
  RESERVED_PREFIX,
} from "../../protocol/names.ts";
import { type ProblemCode, ProblemError } from "../../protocol/problems.ts";

/** First zod issue as a readable sentence naming the field, e.g. `ttl: must be a whole number ...`. */
export function describeIssues(error: z.ZodError, label?: string): string {
  const issue = error.issues[0];
  if (!issue) return "invalid value";
  const path = issue.path.length > 0 ? issue.path.join(".") : label;
  return path ? `${path}: ${issue.message}` : issue.message;
}

export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  code: ProblemCode,
  label?: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ProblemError(code, describeIssues(result.error, label));
  return result.data;
}

/** Validates the query string (only the first value of each name). */
export function queryOf<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return parseOrThrow(schema, c.req.query(), "invalid_parameter");
}

/**
 * A path parameter by name, read from the route the request matched (so the relay works mounted under any base
 * path, docs/deploy.md). Hono percent-decodes parameters leniently, passing a malformed escape or invalid UTF-8
 * through as literal text; the path is checked strictly first so those are a 400 instead.
 */
export function pathParam(c: Context, name: string, what: string): string {
  try {
    // Without a % anywhere there is nothing to decode, so nothing can be malformed (the common case).
    if (c.req.url.includes("%")) decodeURIComponent(new URL(c.req.url).pathname);
  } catch {
    throw new ProblemError("invalid_name", `the ${what} in the path is not valid percent-encoded UTF-8`);
  }
  return c.req.param(name) ?? "";
}

/**
 * `…/v1/kv/<key>`: a KV key, validated (1-512 bytes, no whitespace or control characters, not relay:). With
 * RELAY_KV_PREFIX in front it must not start with relay: either (prefix `rel` + key `ay:{ch}:epoch`).
 */
export function kvKeyParam(c: Context, kvPrefix: string): string {
  const key = parseOrThrow(kvKeySchema, pathParam(c, "key", "key"), "invalid_name", "key");
  if (isReservedName(kvPrefix + key)) {
    throw new ProblemError(
      "invalid_name",
      `key: with RELAY_KV_PREFIX ${JSON.stringify(kvPrefix)} this key's Redis name starts with "${RESERVED_PREFIX}", which is reserved for the relay's own keys`,
    );
  }
  return key;
}

/** `…/v1/channels/<channel>[/...]`: a channel name, validated. */
export function channelParam(c: Context): string {
  return channelName(pathParam(c, "channel", "channel"));
}

/**
 * A channel name, validated as channelNameSchema does. Every channel request (each long-poll among them) names
 * one, so a valid name, the common case, is accepted on the schema's own rule (CHANNEL_REGEX, which also keeps
 * out `relay:`) without zod's per-parse work; anything else goes through the schema for its error. The two
 * agree on every input (params.test.ts).
 */
export function channelName(name: string): string {
  return CHANNEL_REGEX.test(name) ? name : parseOrThrow(channelNameSchema, name, "invalid_name", "channel");
}
