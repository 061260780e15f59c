import * as z from "zod";
import type { JsonValue } from "./message-shape.ts";
import { CHANNEL_REGEX } from "./name-rules.ts";

export * from "./message-shape.ts";

export const jsonValueSchema: z.ZodType<JsonValue> = z.json();

export const messageSchema = z
  .object({
    id: z.string().describe("The message's cursor"),
    channel: z.string().regex(CHANNEL_REGEX),
    event: z.string(),
    data: jsonValueSchema,
    time: z.number().int(),
  })
  .meta({ id: "Message" });
