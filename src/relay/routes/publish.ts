import { Hono } from "hono";
import { IDEMPOTENCY_KEY_REGEX } from "../../protocol/names.ts";
import { ProblemError } from "../../protocol/problems.ts";
import { batchPublishRequestSchema, publishQuerySchema } from "../../protocol/schemas.ts";
import { requireScope } from "../auth/middleware.ts";
import type { RelayEnv } from "../context.ts";
import { readTextBody } from "../http/body.ts";
import { channelParam, parseOrThrow, queryOf } from "../http/params.ts";
import { jsonDepth, MAX_JSON_DEPTH } from "../json-depth.ts";
import { type Published, type PublishInput, publishBatch, publishMessage } from "../redis/publish.ts";

/** Publishing (docs/api.md): one atomic script per message; a batch is one all-or-nothing script. */
export const publishRoutes = new Hono<RelayEnv>();

const publishResult = (published: Published) => ({
  id: published.id,
  channel: published.channel,
  time: published.time,
});

/** 400 for JSON nested deeper than a message may be (`wrapper`: levels the request adds around the data). */
function refuseDeepJson(text: string, wrapper: number): void {
  const depth = jsonDepth(text) - wrapper;
  if (depth > MAX_JSON_DEPTH)
    throw new ProblemError(
      "invalid_json",
      `message data nests ${depth} levels deep; at most ${MAX_JSON_DEPTH}`,
    );
}

publishRoutes.post("/channels/:channel/messages", async (c) => {
  const config = c.get("config");
  const body = await readTextBody(c.req.raw, config.maxBodyBytes, "json-or-text");
  if (body.kind === "json") refuseDeepJson(body.text, 0);
  const channel = channelParam(c);
  const { event } = queryOf(c, publishQuerySchema);
  const idempotencyKey = c.req.header("idempotency-key");
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_REGEX.test(idempotencyKey)) {
    throw new ProblemError(
      "invalid_header",
      "Idempotency-Key must be 1-200 visible ASCII characters other than { and } (no spaces)",
    );
  }
  requireScope(c, "publish", channel);
  const published = await publishMessage(c.get("redis")(), config, {
    channel,
    data: body.text,
    type: body.kind,
    event,
    idempotencyKey,
  });
  return c.json(publishResult(published), published.replayed ? 200 : 201);
});

publishRoutes.post("/publish", async (c) => {
  const config = c.get("config");
  const body = await readTextBody(c.req.raw, config.maxBodyBytes, "json");
  refuseDeepJson(body.text, 3); // {"messages":[{"data": ...}]}
  const request = parseOrThrow(batchPublishRequestSchema, body.json, "invalid_body");
  if (c.req.header("idempotency-key") !== undefined) {
    // One key cannot cover messages on several channels; silently ignoring it would make retries unsafe.
    throw new ProblemError(
      "invalid_header",
      "a batch takes no Idempotency-Key header: give each message an idempotencyKey",
    );
  }
  for (const message of request.messages) requireScope(c, "publish", message.channel);
  // Serialise `data` as parsed, not zod's copy: the parse kept exact numbers (64-bit ids) that the copy drops.
  const parsed = (body.json as { messages: { data: unknown }[] }).messages;
  const inputs: PublishInput[] = request.messages.map(({ channel, data, event, idempotencyKey }, index) =>
    typeof data === "string"
      ? { channel, data, type: "text", event, idempotencyKey }
      : { channel, data: JSON.stringify(parsed[index]?.data), type: "json", event, idempotencyKey },
  );
  const published = await publishBatch(c.get("redis")(), config, inputs);
  // 200 when every message's idempotencyKey had been seen (nothing published), as for a single publish.
  const nothingNew = published.every((message) => message.replayed);
  return c.json({ messages: published.map(publishResult) }, nothingNew ? 200 : 201);
});
