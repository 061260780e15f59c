import type { Cluster, Redis } from "ioredis";

/**
 * Lets the subscriber connection move to another cluster node when its own goes away (docs/proxy.md, "Redis
 * Cluster"): classic pub/sub reaches every node, so any live one will do. Before each reconnect attempt the
 * connection's target becomes the next known node in turn; the subscriber hub then restores its subscriptions.
 */
export function moveSubscriberOnReconnect(subscriber: Redis, cluster: Cluster): void {
  let turn = 0;
  subscriber.on("reconnecting", () => {
    const nodes = cluster.nodes("all").map((node) => ({ host: node.options.host, port: node.options.port }));
    const next = nodes[turn++ % Math.max(nodes.length, 1)];
    if (!next) return;
    // ioredis's connector reads these options on every connect.
    subscriber.options.host = next.host;
    subscriber.options.port = next.port;
  });
}
