import type { Redis } from "@upstash/redis/cloudflare";
import { encodeCursor, streamIdTime } from "../../protocol/cursor.ts";
import { ProblemError } from "../../protocol/problems.ts";
import type { RelayConfig } from "../config.ts";
import { channelKeys } from "./keys.ts";
import { newEpoch, publishBatchScript, publishScript } from "./publish-script.ts";

export interface PublishInput {
  channel: string;
  /** The payload text stored and mirrored unchanged (JSON text for type json). */
  data: string;
  type: "json" | "text";
  /** SSE event type; omitted or "message" for the default. */
  event?: string | undefined;
  /** Makes retries safe: the same key on the same channel within RELAY_IDEMPOTENCY_S publishes once. */
  idempotencyKey?: string | undefined;
}

export interface Published {
  /** The message's single-channel cursor. */
  id: string;
  channel: string;
  time: number;
  streamId: string;
  epoch: string;
  /** Classic subscribers that received the raw mirror (0 when replayed or mirroring is off). */
  receivers: number;
  /** True when the Idempotency-Key was seen before: nothing was published, `id` is the first message's. */
  replayed: boolean;
}

type ScriptReply = [string, string, number, number];

/** The keys a message touches: log, epoch, and its idempotency key when it has one. */
function messageKeys(input: PublishInput): string[] {
  const keys = channelKeys(input.channel);
  const list = [keys.log, keys.epoch];
  if (input.idempotencyKey !== undefined) list.push(keys.idempotency(input.idempotencyKey));
  return list;
}

/** channel, data, type, event, new-epoch candidate: the per-message arguments of both publish scripts. */
function messageArgs(input: PublishInput): string[] {
  return [input.channel, input.data, input.type, input.event ?? "", newEpoch()];
}

/** history length, history TTL, idempotency TTL, mirror raw. */
function settingArgs(config: RelayConfig): string[] {
  return [
    String(config.history),
    String(config.historyTtlSeconds),
    String(config.idempotencySeconds),
    config.mirrorRaw ? "1" : "0",
  ];
}

function toPublished(channel: string, reply: ScriptReply): Published {
  const [streamId, epoch, receivers, replayed] = reply;
  return {
    id: encodeCursor({ channel, epoch, streamId }),
    channel,
    time: streamIdTime(streamId),
    streamId,
    epoch,
    receivers: Number(receivers),
    replayed: Number(replayed) === 1,
  };
}

/** Publishes one message: one atomic script run, one round trip (two the first time: EVALSHA → EVAL). */
export async function publishMessage(
  redis: Redis,
  config: RelayConfig,
  input: PublishInput,
): Promise<Published> {
  const args = [...messageArgs(input), ...settingArgs(config)];
  const reply = await publishScript.run<ScriptReply>(redis, messageKeys(input), args);
  return toPublished(input.channel, reply);
}

type BatchReply = ["published", ScriptReply[]] | ["wrong_type", number, string, string];

/**
 * Publishes several messages in order, all or nothing, in one script run and one round trip (SCRIPT LOAD +
 * EVALSHA pipelined). A key of the wrong Redis type anywhere in the batch is 409 `wrong_type` naming the
 * message, and nothing is written or announced.
 */
export async function publishBatch(
  redis: Redis,
  config: RelayConfig,
  inputs: PublishInput[],
): Promise<Published[]> {
  const keys = inputs.flatMap(messageKeys);
  const args = [...settingArgs(config), String(inputs.length)];
  for (const input of inputs)
    args.push(...messageArgs(input), input.idempotencyKey === undefined ? "0" : "1");
  const [outcome] = await publishBatchScript.runOrdered<BatchReply>(redis, [{ keys, args }]);
  if (!outcome?.ok) {
    if (/^CROSSSLOT/.test(outcome?.error ?? "")) throw crossSlotBatch(inputs);
    throw new Error(`batch publish failed: ${outcome?.error ?? "no reply"}`);
  }
  const reply = outcome.value;
  if (reply[0] === "wrong_type") {
    const [, index, key, type] = reply;
    throw new ProblemError(
      "wrong_type",
      `message ${index - 1}: the relay key ${key} holds a ${type}; nothing in the batch was published`,
      { extensions: { index: index - 1, redisType: type } },
    );
  }
  return reply[1].map((published, index) => toPublished((inputs[index] as PublishInput).channel, published));
}

/**
 * Redis Cluster refused the batch script (it runs nothing then): its channels hash to several slots, and one
 * script, hence one all-or-nothing batch, may touch only one (docs/api.md, `POST /v1/publish`).
 */
function crossSlotBatch(inputs: PublishInput[]): ProblemError {
  const channels = [...new Set(inputs.map((input) => input.channel))];
  return new ProblemError(
    "cross_slot",
    `on Redis Cluster a batch is atomic only within one hash slot, and its channels (${channels.join(", ")}) ` +
      "lie in several; nothing was published. Send one batch per channel.",
    { extensions: { channels } },
  );
}
