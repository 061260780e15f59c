import { randomBytes } from "node:crypto";
import type { Fault } from "./faults.ts";
import { DeliveryLog, EpochOrder, PublishLedger, undelivered, verifyDeliveries } from "./ledger.ts";
import { LongPoller } from "./long-poller.ts";
import { pause } from "./pause.ts";
import { Publisher } from "./publisher.ts";
import { CHANNEL_PREFIX, type FaultStack, HEARTBEAT_MS } from "./stack.ts";
import { SseSubscriber } from "./subscriber.ts";

/** The load of every scenario (issue 8): 20 SSE subscribers and 5 long-poll loops, 50 messages a second. */
export const LOAD = { channels: 5, sseSubscribers: 20, longPollers: 5, ratePerSecond: 50 };
/** Publishing before the fault, and after the stack is healthy again. */
const WARMUP_MS = 1500;
const AFTER_FAULT_MS = 2000;
/** After publishing stops, a publish still retrying gets this long to be acknowledged. */
const SETTLE_MS = 20_000;
/**
 * Once the last publish is settled, every subscriber has everything acknowledged within two heartbeat intervals
 * (what a client waits before it gives a silent stream up), plus a margin for a loaded machine.
 */
export const CATCH_UP_MS = 2 * HEARTBEAT_MS + 3000;
/** Time for a part that was restarted to answer /healthz through the whole chain again. */
const RECOVERY_MS = 30_000;
/** After the subscribers left, the relay has released every upstream stream at the proxy within this long. */
const RELEASE_MS = 2 * HEARTBEAT_MS + 8000;

export interface ScenarioReport {
  problems: string[];
  /** One paragraph of figures for the test log. */
  summary: string;
}

/**
 * One fault under load on a running stack: subscribers connect, the publisher starts, the fault is injected and
 * repaired, publishing goes on for a while and stops; then every subscriber must catch up within the bound, the
 * ledger must balance, and the proxy must hold no stream once they left.
 */
export async function runScenario(stack: FaultStack, fault: Fault): Promise<ScenarioReport> {
  const problems: string[] = [];
  if (stack.redis.persistence !== fault.persistence) {
    await stack.redis.kill();
    await stack.redis.start(fault.persistence);
    if (!(await healthy(stack.relay.url, RECOVERY_MS)))
      problems.push("the relay did not get healthy before the scenario");
  }
  const run = randomBytes(4).toString("hex");
  const channels = Array.from({ length: LOAD.channels }, (_, i) => `${CHANNEL_PREFIX}${run}.${i}`);
  const { subscribers, pollers } = createSubscribers(stack, run, channels);
  const published = new PublishLedger();
  const publisher = new Publisher({
    relayUrl: stack.relay.url,
    authorization: stack.authorization,
    channels,
    run,
    ratePerSecond: LOAD.ratePerSecond,
    ledger: published,
  });
  const logs = [...subscribers.map((s) => s.log), ...pollers.map((p) => p.log)];
  const timeline: string[] = [];
  const started = Date.now();
  const mark = (what: string) => timeline.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s`);
  try {
    await Promise.all([...subscribers.map((s) => s.start()), ...pollers.map((p) => p.start())]);
    mark("subscribed");
    publisher.start();
    await pause(WARMUP_MS);
    mark("fault");
    problems.push(...(await fault.inject(stack, subscribers)));
    mark("repaired");
    if (!(await healthy(stack.relay.url, RECOVERY_MS)))
      problems.push(`the relay did not answer /healthz within ${RECOVERY_MS / 1000} s of the repair`);
    mark("healthy");
    await pause(AFTER_FAULT_MS);
    await publisher.stop(SETTLE_MS);
    mark("settled");
    const lagging = await waitForCatchUp(published, logs, CATCH_UP_MS);
    mark("caught up");
    const epochs = EpochOrder.of(published, logs);
    for (const subscriber of lagging) problems.push(describeLag(subscriber, published, epochs, subscribers));
    for (const log of logs) problems.push(...verifyDeliveries(published, log, epochs));
    if (!fault.historyLost) {
      const resetting = logs.filter((log) => log.resets().length > 0);
      if (resetting.length > 0)
        problems.push(
          `${resetting.length} subscriber(s) got a reset or gap although no history was lost (first: ${resetting[0]?.name})`,
        );
    }
    problems.push(...publisher.problems, ...published.conflicts);
  } finally {
    await Promise.all([...subscribers.map((s) => s.stop()), ...pollers.map((p) => p.stop())]);
    await publisher.stop(0);
  }
  for (const part of [...subscribers, ...pollers]) problems.push(...part.problems);
  const open = await openStreamsAfter(stack, RELEASE_MS);
  if (open !== 0)
    problems.push(
      `the proxy still holds ${open} open stream(s) ${RELEASE_MS / 1000} s after every client left`,
    );
  mark("released");
  return { problems, summary: summarize(fault, publisher, published, logs, subscribers, timeline) };
}

function createSubscribers(stack: FaultStack, run: string, channels: string[]) {
  const { relay, authorization } = stack;
  const subscribers: SseSubscriber[] = [];
  const add = (name: string, path: string, subscribed: string[]) =>
    subscribers.push(
      new SseSubscriber({ relayUrl: relay.url, authorization, path, log: new DeliveryLog(name, subscribed) }),
    );
  // 20 streams: one-channel streams (single cursors), several-channel streams and pattern streams (compound cursors).
  for (let i = 0; i < 14; i++) {
    const channel = channels[i % channels.length] as string;
    add(`sse-${i} (${channel})`, `/v1/channels/${channel}/events`, [channel]);
  }
  const query = channels.map((channel) => `channel=${channel}`).join("&");
  for (let i = 14; i < 17; i++) add(`sse-${i} (all channels)`, `/v1/events?${query}`, channels);
  for (let i = 17; i < LOAD.sseSubscribers; i++)
    add(`sse-${i} (pattern)`, `/v1/events?pattern=${CHANNEL_PREFIX}${run}.*`, channels);
  const pollers = channels.map(
    (channel, i) =>
      new LongPoller(
        relay.url,
        authorization,
        channel,
        new DeliveryLog(`long-poll-${i} (${channel})`, [channel]),
      ),
  );
  return { subscribers, pollers };
}

/** Waits until no log misses an acknowledged message; resolves the logs still behind at the deadline. */
async function waitForCatchUp(
  published: PublishLedger,
  logs: DeliveryLog[],
  boundMs: number,
): Promise<DeliveryLog[]> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const epochs = EpochOrder.of(published, logs);
    const behind = logs.filter((log) => undelivered(published, log, epochs).length > 0);
    if (behind.length === 0 || Date.now() > deadline) return behind;
    await pause(100);
  }
}

/** Why a subscriber is behind, in one line: in particular a stream that is open and beating over a dead feed. */
function describeLag(
  log: DeliveryLog,
  published: PublishLedger,
  epochs: EpochOrder,
  subscribers: SseSubscriber[],
) {
  const missing = undelivered(published, log, epochs);
  let state = "";
  const connection = subscribers.find((s) => s.log === log)?.connections.at(-1);
  if (connection) {
    const age = ((Date.now() - connection.openedAt) / 1000).toFixed(1);
    state =
      connection.end === undefined
        ? `; its stream is open (for ${age} s, ${connection.heartbeats} heartbeats, last byte ${Date.now() - connection.lastByteAt} ms ago)`
        : `; its last stream ended (${connection.end})`;
  }
  return `${log.name}: still missing ${missing.length} acknowledged message(s) ${CATCH_UP_MS / 1000} s after the last publish (first: seq ${missing[0]?.seq})${state}`;
}

async function healthy(relayUrl: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await fetch(`${relayUrl}/healthz`, { signal: AbortSignal.timeout(3000) }).catch(
      () => undefined,
    );
    await response?.body?.cancel();
    if (response?.ok) return true;
    await pause(200);
  }
  return false;
}

async function openStreamsAfter(stack: FaultStack, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await stack.proxy.openStreams().catch(() => -1);
    if (open === 0 || Date.now() > deadline) return open;
    await pause(200);
  }
}

function summarize(
  fault: Fault,
  publisher: Publisher,
  published: PublishLedger,
  logs: DeliveryLog[],
  subscribers: SseSubscriber[],
  timeline: string[],
): string {
  const { sent, gaveUp } = publisher.counts;
  const answers = [...publisher.answers].map(([answer, count]) => `${answer} ×${count}`).join(", ");
  const resets = logs.reduce((sum, log) => sum + log.resets().length, 0);
  const reconnects = subscribers.reduce((sum, s) => sum + s.connections.length - 1, 0);
  return [
    `${fault.name}: ${sent} published, ${published.acks().length} acknowledged, ${gaveUp} abandoned`,
    `  answers: ${answers}`,
    `  SSE reconnects: ${reconnects}, resets/gaps: ${resets}`,
    `  timeline: ${timeline.join(", ")}`,
  ].join("\n");
}
