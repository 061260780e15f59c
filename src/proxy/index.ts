import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { HttpHandler } from "./http-handler.ts";
import { answerClientError } from "./http-responses.ts";
import { ProxyMetrics } from "./metrics.ts";
import { type ProxyOptions, resolveOptions } from "./options.ts";
import { RedisBackend } from "./redis-backend.ts";
import type { SubscribeStream } from "./subscribe-stream.ts";

export type { ProxyOptions } from "./options.ts";
export type { TokenEntry } from "./tokens.ts";

export interface ProxyAddress {
  /** `http://<host>:<port>` (IPv6 hosts in brackets). */
  url: string;
  host: string;
  port: number;
}

export interface Proxy {
  /** Starts serving; port 0 (the default) takes a free port. Host defaults to 127.0.0.1. */
  listen(options?: { host?: string; port?: number }): Promise<ProxyAddress>;
  /**
   * Graceful: stops accepting, ends open subscribe streams, lets in-flight requests finish (up to
   * `shutdownGraceMs`), then closes the Redis connections. Idempotent.
   */
  close(): Promise<void>;
}

/** An Upstash-compatible REST proxy in front of one or more Redis servers. */
export function createProxy(options: ProxyOptions): Proxy {
  const resolved = resolveOptions(options);
  const backends = new Map<string, RedisBackend>();
  for (const grant of resolved.tokens.values()) {
    if (backends.has(grant.redisUrl)) continue;
    backends.set(
      grant.redisUrl,
      new RedisBackend(grant.redisUrl, {
        commandTimeoutMs: resolved.commandTimeoutMs,
        maxReconnectDelayMs: resolved.maxReconnectDelayMs,
        connectionName: "upstash-proxy",
        readyWaitMs: resolved.readyWaitMs,
        blocking: resolved.blocking,
        log: resolved.log,
        // Without seeds a URL discovers its cluster (if any) from its own node alone.
        clusterSeeds: resolved.clusterSeeds.get(grant.redisUrl) ?? [],
      }),
    );
  }
  const metrics = new ProxyMetrics();
  const streams = new Set<SubscribeStream>();
  const handler = new HttpHandler({
    options: resolved,
    backends,
    metrics,
    streams,
    renderMetrics: () => {
      const all = [...backends.values()];
      const stats = all.map((backend) => backend.subscriptions.stats());
      return metrics.render({
        openStreams: streams.size,
        subscriptions: {
          channels: stats.reduce((sum, stat) => sum + stat.channels, 0),
          patterns: stats.reduce((sum, stat) => sum + stat.patterns, 0),
        },
        blockingActive: all.reduce((sum, backend) => sum + backend.blockingActive, 0),
        redis: all.map((backend) => ({
          label: backend.label,
          commandsUp: backend.status === "ready",
          subscriberUp: backend.subscriptions.status === "ready",
        })),
      });
    },
  });

  let server: Server | undefined;
  let keepaliveTimer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  return {
    async listen({ host = "127.0.0.1", port = 0 } = {}) {
      if (server) throw new Error("the proxy is already listening");
      if (closing) throw new Error("the proxy was closed");
      for (const backend of backends.values()) backend.connect();
      const created = createServer({ keepAliveTimeout: 65_000 }, handler.handle);
      created.on("clientError", answerClientError);
      server = created;
      await new Promise<void>((resolve, reject) => {
        created.once("error", reject);
        created.listen(port, host, () => {
          created.off("error", reject);
          resolve();
        });
      });
      keepaliveTimer = setInterval(() => {
        for (const stream of streams) stream.keepalive();
      }, resolved.keepaliveMs);
      keepaliveTimer.unref();
      const address = created.address() as AddressInfo;
      const urlHost = address.address.includes(":") ? `[${address.address}]` : address.address;
      return { url: `http://${urlHost}:${address.port}`, host: address.address, port: address.port };
    },

    close() {
      closing ??= (async () => {
        clearInterval(keepaliveTimer);
        if (server) {
          const current = server;
          const drained = new Promise<void>((resolve) => current.close(() => resolve()));
          for (const stream of [...streams]) stream.end();
          // Keep-alive connections become idle as their last request finishes: close each as it does.
          current.closeIdleConnections();
          const sweeper = setInterval(() => current.closeIdleConnections(), 50);
          const grace = setTimeout(() => current.closeAllConnections(), resolved.shutdownGraceMs);
          await drained;
          clearInterval(sweeper);
          clearTimeout(grace);
        }
        await Promise.all([...backends.values()].map((backend) => backend.close()));
      })();
      return closing;
    },
  };
}
