import * as z from "zod";
import { MAX_COMPOUND_CURSOR_LENGTH } from "./cursor.ts";
import { jsonValueSchema, messageSchema } from "./message.ts";
import { channelNameSchema, eventNameSchema, IDEMPOTENCY_KEY_REGEX } from "./names.ts";
import { PROBLEMS } from "./problems.ts";

/**
 * Request and response shapes of the HTTP API. The relay validates with them and `/openapi.json` is
 * generated from them, so the document cannot drift from the behaviour.
 */

export const MAX_BATCH_MESSAGES = 100;
export const MAX_LIST_LIMIT = 1000;
export const MAX_HISTORY_LIMIT = 1000;
export const MAX_WAIT_SECONDS = 30;

/** A decimal integer query parameter within [min, max]. */
export function integerParam(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,10}$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

// ---- KV -------------------------------------------------------------------------------------------
export const kvPutQuerySchema = z.object({
  ttl: integerParam(1, 315_360_000).optional().describe("Expire the key after this many seconds"),
});
export const kvWriteResultSchema = z
  .object({ key: z.string(), etag: z.string().describe('"<sha1 of the value>"') })
  .meta({ id: "KvWriteResult" });
export const kvListQuerySchema = z.object({
  prefix: z.string().max(512).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,20}$/, "a SCAN cursor is a decimal number")
    .optional(),
  limit: integerParam(1, MAX_LIST_LIMIT).optional(),
});
export const kvListResultSchema = z
  .object({
    keys: z.array(z.string()),
    cursor: z.string().describe('SCAN cursor to continue with; "0" when the listing is complete'),
  })
  .meta({ id: "KvList" });

// ---- publish --------------------------------------------------------------------------------------
export const publishQuerySchema = z.object({ event: eventNameSchema.optional() });
export const publishResultSchema = z
  .object({
    id: z.string().describe("The message's cursor"),
    channel: z.string(),
    time: z.number().int().describe("ms since the epoch at which Redis stored the message"),
  })
  .meta({ id: "PublishResult" });
export const batchPublishRequestSchema = z
  .object({
    messages: z
      .array(
        z.strictObject({
          channel: channelNameSchema,
          data: jsonValueSchema.describe("A string is published as text, anything else as compact JSON"),
          event: eventNameSchema.optional(),
          idempotencyKey: z
            .string()
            .regex(
              IDEMPOTENCY_KEY_REGEX,
              "an idempotency key is 1-200 visible ASCII characters other than { and }",
            )
            .optional()
            .describe("Publish this message once per key and channel within RELAY_IDEMPOTENCY_S"),
        }),
      )
      .min(1)
      .max(MAX_BATCH_MESSAGES),
  })
  .meta({ id: "BatchPublishRequest" });
export type BatchPublishRequest = z.infer<typeof batchPublishRequestSchema>;
export const batchPublishResultSchema = z
  .object({ messages: z.array(publishResultSchema) })
  .meta({ id: "BatchPublishResult" });

// ---- channels -------------------------------------------------------------------------------------
export const channelInfoSchema = z
  .object({
    channel: z.string(),
    length: z.number().int().describe("Messages retained in history"),
    first: z.string().nullable().describe("Cursor of the oldest retained message"),
    last: z.string().nullable().describe("Cursor of the newest retained message"),
    epoch: z.string().nullable().describe("Current history epoch; null before the first publish"),
  })
  .meta({ id: "ChannelInfo" });

export const historyQuerySchema = z.object({
  after: z
    .string()
    .max(MAX_COMPOUND_CURSOR_LENGTH)
    .optional()
    .describe("Cursor: return messages after it (a compound SSE cursor positions this channel)"),
  limit: integerParam(1, MAX_HISTORY_LIMIT).optional(),
  wait: integerParam(0, MAX_WAIT_SECONDS).optional().describe("Long-poll: hold up to this many seconds"),
});
export const historyResultSchema = z
  .object({
    messages: z.array(messageSchema),
    cursor: z.string().describe("Where to continue"),
    gap: z.boolean().describe("True when messages after `after` were lost (trimmed, expired or deleted)"),
  })
  .meta({ id: "History" });

// ---- misc -----------------------------------------------------------------------------------------
export const healthSchema = z.object({ ok: z.literal(true) }).meta({ id: "Health" });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(PROBLEMS) as [keyof typeof PROBLEMS, ...(keyof typeof PROBLEMS)[]]),
  })
  .loose()
  .meta({ id: "Problem" });
