import { describe, expect, it } from "vitest";
import { ProxyMetrics } from "./metrics.ts";
import { readProxyMetrics } from "./metrics-text.ts";

describe("readProxyMetrics", () => {
  it("reads the open-streams gauge and the Redis requests of the proxy's own rendering", () => {
    const metrics = new ProxyMetrics();
    metrics.request("command", 200, 0.001);
    metrics.request("command", 400, 0.001);
    metrics.request("pipeline", 200, 0.002);
    metrics.request("multi-exec", 200, 0.002);
    metrics.request("path-command", 200, 0.001);
    metrics.request("subscribe", 200, undefined);
    metrics.request("psubscribe", 200, undefined);
    for (const endpoint of ["metrics", "healthz", "preflight", "other"] as const)
      metrics.request(endpoint, 200, 0.001);
    const text = metrics.render({
      openStreams: 7,
      subscriptions: { channels: 1, patterns: 0 },
      blockingActive: 0,
      redis: [{ label: "redis://127.0.0.1:6379", commandsUp: true, subscriberUp: true }],
    });
    expect(readProxyMetrics(text)).toEqual({ openStreams: 7, redisRequests: 7 });
  });

  it("refuses a text without the open-streams gauge", () => {
    expect(() => readProxyMetrics("# nothing here\n")).toThrow(/upstash_proxy_open_streams/);
  });
});
