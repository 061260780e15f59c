import { runLoad } from "../lib/load.ts";
import { cpuSeconds } from "../relay/proc.ts";
import { relayTarget } from "../relay/targets.ts";
import { countNodeCpu, type NodeCpu } from "./node-cpu.ts";
import { ChannelReceipts } from "./receipts.ts";
import { allNodes, type Backend } from "./stack.ts";

export interface RelayPublishResult {
  backend: Backend;
  channels: number;
  concurrency: number;
  /** Acknowledged publishes (201) per second of the measured window. */
  publishesPerSecond: number;
  p50: number;
  p99: number;
  /** Every acknowledged publish, warm-up included (what the CPU figures cover). */
  acknowledged: number;
  check: { lost: number; duplicates: number; outOfOrder: number };
  /** `reset` events the subscribers got (a gap the relay admits to). */
  resets: number;
  redisCpu: NodeCpu;
  relayMicrosPerPublish: number;
  proxyMicrosPerPublish: number;
}

/**
 * Relay publish throughput over many channels: one SSE subscriber per channel on the backend's relay (the live
 * path through the proxy's subscribe streams), then `concurrency` clients POST messages round robin over the
 * channels back to back for `seconds`. Every acknowledged message must reach its channel's subscriber.
 */
export async function measureRelayPublish(options: {
  backend: Backend;
  authorization: string;
  channels: number;
  concurrency: number;
  seconds: number;
  /** Prefix of the channel names (within the token's `bench.*` scope); each run should use its own. */
  prefix: string;
}): Promise<RelayPublishResult> {
  const { backend, channels, concurrency } = options;
  if (concurrency > channels) throw new Error("measureRelayPublish needs at least one channel per client");
  const relay = backend.relay;
  if (!relay) throw new Error(`the ${backend.label} backend was started without a relay`);
  const target = relayTarget(relay.url, options.authorization, backend.redisUrl);
  const names = Array.from({ length: channels }, (_, index) => `${options.prefix}.${index}`);
  const receipts = new ChannelReceipts();
  const subscribers = await Promise.all(
    names.map((name, channel) =>
      target.open(name, 1, (subscriber, seq) => receipts.record(channel, subscriber, seq)),
    ),
  );
  try {
    const sent = names.map(() => 0);
    // Client w publishes on channels w, w + concurrency, ... in turn: one publish in flight per channel, so each
    // channel's messages are stored (and must arrive) in the order they were numbered.
    const turns = Array.from({ length: concurrency }, () => 0);
    const channelsOf = (worker: number) => Math.ceil((channels - worker) / concurrency);
    let acknowledged = 0;
    const counter = countNodeCpu(allNodes(backend));
    const relayBefore = cpuSeconds(relay.pid);
    const proxyBefore = cpuSeconds(backend.proxyPid);
    const load = await runLoad({
      concurrency,
      durationMs: options.seconds * 1000,
      warmupMs: 500,
      operation: async (worker) => {
        const turn = turns[worker] ?? 0;
        turns[worker] = turn + 1;
        const channel = worker + (turn % channelsOf(worker)) * concurrency;
        const seq = sent[channel] ?? 0;
        sent[channel] = seq + 1;
        await target.publish(names[channel] as string, seq);
        acknowledged++;
      },
    });
    const redisCpu = counter();
    const relayCpu = cpuSeconds(relay.pid) - relayBefore;
    const proxyCpu = cpuSeconds(backend.proxyPid) - proxyBefore;
    await receipts.waitForTotal(acknowledged, 30_000);
    const errors = subscribers.flatMap((subscriber) => subscriber.errors());
    if (errors.length > 0) throw new Error(`SSE subscribers reported: ${errors.slice(0, 3).join("; ")}`);
    return {
      backend,
      channels,
      concurrency,
      publishesPerSecond: load.opsPerSecond,
      p50: load.p50,
      p99: load.p99,
      acknowledged,
      check: receipts.check(sent, 1),
      resets: subscribers.reduce((sum, subscriber) => sum + subscriber.resets(), 0),
      redisCpu,
      relayMicrosPerPublish: (relayCpu / acknowledged) * 1e6,
      proxyMicrosPerPublish: (proxyCpu / acknowledged) * 1e6,
    };
  } finally {
    await Promise.all(subscribers.map((subscriber) => subscriber.close()));
  }
}
