import * as z from "zod";
import { messageSchema } from "../protocol/message.ts";
import { channelNameSchema, channelPatternSchema, eventNameSchema, kvKeySchema } from "../protocol/names.ts";
import * as s from "../protocol/schemas.ts";

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests (z.toJSONSchema).
 * Named schemas (`.meta({ id })`) become components; everything else is inlined.
 */
type JsonSchema = Record<string, unknown>;

const named = [
  messageSchema,
  s.kvWriteResultSchema,
  s.kvListResultSchema,
  s.publishResultSchema,
  s.batchPublishRequestSchema,
  s.batchPublishResultSchema,
  s.channelInfoSchema,
  s.historyResultSchema,
  s.healthSchema,
  s.problemSchema,
];

const ref = (schema: z.ZodType): JsonSchema => ({
  $ref: `#/components/schemas/${z.globalRegistry.get(schema)?.id}`,
});

function inline(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  return rest;
}

function components(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const schema of named) registry.add(schema, { id: z.globalRegistry.get(schema)?.id as string });
  const out = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: "any",
  }) as {
    schemas: Record<string, JsonSchema>;
  };
  for (const schema of Object.values(out.schemas)) delete schema.$schema;
  return out.schemas;
}

function queryParameters(schema: z.ZodObject): JsonSchema[] {
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: "query",
    required: !(field as z.ZodType).safeParse(undefined).success,
    schema: inline(field as z.ZodType),
  }));
}

const pathParam = (name: string, schema: z.ZodType) => ({
  name,
  in: "path",
  required: true,
  schema: inline(schema),
});
const json = (schema: JsonSchema) => ({ "application/json": { schema } });
const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      { description: "Problem", content: { "application/problem+json": { schema: ref(s.problemSchema) } } },
    ]),
  );
const authErrors = [401, 403];
const anyBody = { "application/json": { schema: {} }, "text/plain": { schema: { type: "string" } } };

export function buildOpenApiDocument(): JsonSchema {
  const channel = pathParam("channel", channelNameSchema);
  const key = pathParam("key", kvKeySchema);
  return {
    openapi: "3.1.0",
    info: {
      title: "edge relay",
      version: "1",
      description:
        "Redis KV and durable pub/sub over HTTP, SSE and long-poll. Errors are RFC 9457 problems with a stable `code`.",
    },
    components: {
      schemas: components(),
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
    security: [{ bearer: [] }],
    paths: {
      "/healthz": {
        get: {
          security: [],
          summary: "Redis answers PING",
          responses: { "200": { description: "ok", content: json(ref(s.healthSchema)) }, ...problems(503) },
        },
      },
      "/v1/kv": {
        get: {
          summary: "List keys (SCAN) the token may read",
          parameters: queryParameters(s.kvListQuerySchema),
          responses: {
            "200": { description: "A page", content: json(ref(s.kvListResultSchema)) },
            ...problems(400, ...authErrors),
          },
        },
      },
      "/v1/kv/{key}": {
        get: {
          summary: "Read a value",
          parameters: [key, { name: "If-None-Match", in: "header", schema: { type: "string" } }],
          responses: {
            "200": { description: "The value with its content type and ETag", content: anyBody },
            "304": { description: "Not modified" },
            ...problems(400, ...authErrors, 404, 409),
          },
        },
        put: {
          summary: "Store a value (JSON or text/*, UTF-8)",
          parameters: [
            key,
            ...queryParameters(s.kvPutQuerySchema),
            { name: "If-Match", in: "header", schema: { type: "string" } },
            { name: "If-None-Match", in: "header", schema: { type: "string" } },
          ],
          requestBody: { required: true, content: anyBody },
          responses: {
            "200": { description: "Replaced", content: json(ref(s.kvWriteResultSchema)) },
            "201": { description: "Created", content: json(ref(s.kvWriteResultSchema)) },
            ...problems(400, ...authErrors, 409, 412, 413, 415),
          },
        },
        delete: {
          summary: "Delete a value",
          parameters: [key, { name: "If-Match", in: "header", schema: { type: "string" } }],
          responses: { "204": { description: "Deleted" }, ...problems(400, ...authErrors, 404, 409, 412) },
        },
      },
      "/v1/channels/{channel}": {
        get: {
          summary: "Channel info",
          parameters: [channel],
          responses: {
            "200": { description: "Info", content: json(ref(s.channelInfoSchema)) },
            ...problems(400, ...authErrors),
          },
        },
        delete: {
          summary: "Drop the channel's history (admin)",
          parameters: [channel],
          responses: { "204": { description: "Dropped" }, ...problems(400, ...authErrors) },
        },
      },
      "/v1/channels/{channel}/messages": {
        post: {
          summary: "Publish one message",
          parameters: [
            channel,
            ...queryParameters(s.publishQuerySchema),
            { name: "Idempotency-Key", in: "header", schema: { type: "string", maxLength: 200 } },
          ],
          requestBody: { required: true, content: anyBody },
          responses: {
            "200": {
              description: "Replayed: this Idempotency-Key was seen; nothing was published",
              content: json(ref(s.publishResultSchema)),
            },
            "201": { description: "Published", content: json(ref(s.publishResultSchema)) },
            ...problems(400, ...authErrors, 413, 415),
          },
        },
        get: {
          summary: "History and long-poll",
          parameters: [channel, ...queryParameters(s.historyQuerySchema)],
          responses: {
            "200": { description: "Messages after the cursor", content: json(ref(s.historyResultSchema)) },
            ...problems(400, ...authErrors),
          },
        },
      },
      "/v1/publish": {
        post: {
          summary: "Publish several messages in order, in one round trip",
          requestBody: { required: true, content: json(ref(s.batchPublishRequestSchema)) },
          responses: {
            "201": { description: "Published", content: json(ref(s.batchPublishResultSchema)) },
            ...problems(400, ...authErrors, 413, 415),
          },
        },
      },
      "/v1/channels/{channel}/events": {
        get: {
          summary: "SSE stream of one channel",
          parameters: [channel, { name: "Last-Event-ID", in: "header", schema: { type: "string" } }],
          responses: { "200": { description: "text/event-stream" }, ...problems(400, ...authErrors) },
        },
      },
      "/v1/events": {
        get: {
          summary: "SSE stream of several channels and/or patterns",
          parameters: [
            {
              name: "channel",
              in: "query",
              schema: { type: "array", items: inline(channelNameSchema) },
              style: "form",
              explode: true,
            },
            {
              name: "pattern",
              in: "query",
              schema: { type: "array", items: inline(channelPatternSchema) },
              style: "form",
              explode: true,
            },
            { name: "raw", in: "query", schema: { type: "string", enum: ["1"] } },
            { name: "lastEventId", in: "query", schema: { type: "string" } },
          ],
          responses: { "200": { description: "text/event-stream" }, ...problems(400, ...authErrors) },
        },
      },
    },
    "x-event-name": inline(eventNameSchema),
  };
}

let cached: string | undefined;
/** The document as JSON text, built once per isolate. */
export function openApiJson(): string {
  cached ??= JSON.stringify(buildOpenApiDocument());
  return cached;
}
