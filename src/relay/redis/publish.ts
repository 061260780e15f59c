import type { Redis } from "@upstash/redis/cloudflare";
import { encodeCursor, streamIdTime } from "../../protocol/cursor.ts";
import type { RelayConfig } from "../config.ts";
import { channelKeys } from "./keys.ts";
import { newEpoch, publishScript } from "./publish-script.ts";

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

function scriptCall(config: RelayConfig, input: PublishInput) {
  const keys = channelKeys(input.channel);
  const keyList = [keys.log, keys.epoch];
  if (input.idempotencyKey !== undefined) keyList.push(keys.idempotency(input.idempotencyKey));
  const args = [
    input.channel,
    input.data,
    input.type,
    input.event ?? "",
    newEpoch(),
    String(config.history),
    String(config.historyTtlSeconds),
    String(config.idempotencySeconds),
    config.mirrorRaw ? "1" : "0",
  ];
  return { keys: keyList, args };
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
  const call = scriptCall(config, input);
  const reply = await publishScript.run<ScriptReply>(redis, call.keys, call.args);
  return toPublished(input.channel, reply);
}

/**
 * Publishes several messages in order in one round trip (SCRIPT LOAD + one EVALSHA each, pipelined).
 * Each message is atomic on its own; a failure of one (a Redis error) is thrown after the whole pipeline
 * ran, naming its index.
 */
export async function publishBatch(
  redis: Redis,
  config: RelayConfig,
  inputs: PublishInput[],
): Promise<Published[]> {
  const outcomes = await publishScript.runOrdered<ScriptReply>(
    redis,
    inputs.map((input) => scriptCall(config, input)),
  );
  return outcomes.map((outcome, index) => {
    if (!outcome.ok) throw new Error(`publish of message ${index} failed: ${outcome.error}`);
    return toPublished((inputs[index] as PublishInput).channel, outcome.value);
  });
}
