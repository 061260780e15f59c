import { Redis } from "ioredis";
import { openAll } from "../relay/open-all.ts";
import { countNodeCpu, type NodeCpu } from "./node-cpu.ts";
import { ChannelReceipts } from "./receipts.ts";
import type { BenchNode } from "./stack.ts";

/** Classic PUBLISH/SUBSCRIBE (broadcast over the cluster bus) or sharded SPUBLISH/SSUBSCRIBE (stays on the shard). */
export type PubSubMode = "classic" | "sharded";

export interface FanoutPlan {
  channels: number;
  subscribersPerChannel: number;
  /** Messages over all channels, round robin. */
  messages: number;
  /** Publishes in flight at once (closed loop). */
  publishers: number;
}

export interface FanoutResult {
  mode: PubSubMode;
  plan: FanoutPlan;
  publishesPerSecond: number;
  deliveriesPerSecond: number;
  /** Receipts over all subscribers (messages × subscribers per channel when nothing is lost). */
  delivered: number;
  check: { lost: number; duplicates: number; outOfOrder: number };
  /** CPU of every counted node, over the whole run (publishing and delivery). */
  cpu: NodeCpu;
}

/**
 * Fan-out straight to Redis with ioredis: `channels` channels with `subscribersPerChannel` subscriber connections
 * each, then `messages` messages published to the node owning each channel's slot. Classic subscribers connect to
 * the nodes in turn (any node of a cluster delivers classic messages, since every PUBLISH reaches every node);
 * sharded ones must connect to the owner. On a single Redis both modes use its one node.
 */
export async function measureDirectFanout(options: {
  nodes: readonly BenchNode[];
  mode: PubSubMode;
  plan: FanoutPlan;
  /** Prefix of the channel names; each run should use its own. */
  prefix: string;
  /** Nodes whose CPU is counted (replicas as well: classic messages reach them too); `nodes` by default. */
  cpuNodes?: readonly BenchNode[];
  timeoutMs?: number;
}): Promise<FanoutResult> {
  const { nodes, mode, plan, prefix } = options;
  const names = Array.from({ length: plan.channels }, (_, index) => `${prefix}.${index}`);
  const owners = await slotOwners(nodes, names);
  const receipts = new ChannelReceipts();
  const channelIndex = new Map(names.map((name, index) => [name, index]));

  const subscribers = await openAll(
    plan.channels * plan.subscribersPerChannel,
    50,
    async (index) => {
      const channel = Math.floor(index / plan.subscribersPerChannel);
      const subscriber = index % plan.subscribersPerChannel;
      const node =
        mode === "sharded" ? (owners[channel] as BenchNode) : (nodes[index % nodes.length] as BenchNode);
      const client = new Redis(node.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      const onMessage = (name: string, payload: string) => {
        const at = channelIndex.get(name);
        if (at !== undefined) receipts.record(at, subscriber, Number(payload));
      };
      client.on(mode === "sharded" ? "smessage" : "message", onMessage);
      try {
        await client.connect();
        const name = names[channel] as string;
        await (mode === "sharded" ? client.ssubscribe(name) : client.subscribe(name));
      } catch (error) {
        client.disconnect();
        throw error;
      }
      return client;
    },
    (client) => client.disconnect(),
  );
  const publishers = new Map(nodes.map((node) => [node, new Redis(node.url, { maxRetriesPerRequest: 1 })]));
  try {
    const sent = names.map(() => 0);
    let next = 0;
    const counter = countNodeCpu(options.cpuNodes ?? nodes);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: plan.publishers }, async () => {
        while (next < plan.messages) {
          const channel = next++ % plan.channels;
          const seq = sent[channel] ?? 0;
          sent[channel] = seq + 1;
          const publisher = publishers.get(owners[channel] as BenchNode) as Redis;
          const name = names[channel] as string;
          await (mode === "sharded"
            ? publisher.spublish(name, String(seq))
            : publisher.publish(name, String(seq)));
        }
      }),
    );
    const published = performance.now();
    const expected = plan.messages * plan.subscribersPerChannel;
    await receipts.waitForTotal(expected, options.timeoutMs ?? 30_000);
    const cpu = counter();
    return {
      mode,
      plan,
      publishesPerSecond: plan.messages / ((published - started) / 1000),
      deliveriesPerSecond: receipts.total / ((Math.max(receipts.lastArrival, published) - started) / 1000),
      delivered: receipts.total,
      check: receipts.check(sent, plan.subscribersPerChannel),
      cpu,
    };
  } finally {
    for (const publisher of publishers.values()) publisher.disconnect();
    await Promise.all(subscribers.map((client) => client.quit().catch(() => client.disconnect())));
  }
}

/** The node owning each name's slot (CLUSTER SLOTS); the one node when there is one. */
export async function slotOwners(
  nodes: readonly BenchNode[],
  names: readonly string[],
): Promise<BenchNode[]> {
  const [only] = nodes;
  if (nodes.length === 1 && only) return names.map(() => only);
  const client = new Redis((nodes[0] as BenchNode).url, { maxRetriesPerRequest: 1 });
  try {
    const ranges = await client.cluster("SLOTS");
    return await Promise.all(
      names.map(async (name) => {
        const slot = (await client.cluster("KEYSLOT", name)) as number;
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        const owner = nodes.find((node) => node.port === range?.[2]?.[1]);
        if (!owner) throw new Error(`no primary among the given nodes owns slot ${slot} of ${name}`);
        return owner;
      }),
    );
  } finally {
    client.disconnect();
  }
}
