import { scrapeProxyMetrics } from "../../src/proxy/metrics-text.ts";
import type { RelayBenchStack } from "./stack.ts";

/**
 * Checks that the relay under test serves SSE streams the way its settings say: on the hub, two streams on one
 * channel share one upstream subscribe stream at the proxy; on the direct path (RELAY_HUB=off) each holds its own.
 * A run that measured the wrong path would report it under the right name (a Worker started without its
 * wrangler.toml has no Durable Object binding and silently takes the direct path).
 */
export async function checkDeliveryPath(
  label: string,
  relayUrl: string,
  stack: RelayBenchStack,
  relayEnv: Record<string, string>,
): Promise<void> {
  const hub = !/^(off|false|0)$/i.test(relayEnv.RELAY_HUB ?? "on");
  const channel = `bench.path-check-${Date.now().toString(36)}`; // within the bench token's scope
  const before = await openUpstreams(stack);
  const streams = await Promise.all([0, 1].map(() => openStream(relayUrl, channel, stack.authorization)));
  try {
    const expected = before + (hub ? 1 : 2);
    const deadline = Date.now() + 5000;
    let open = await openUpstreams(stack);
    while (open !== expected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      open = await openUpstreams(stack);
    }
    if (open !== expected)
      throw new Error(
        `the relay on ${label} should serve two streams of one channel with ${hub ? "one upstream stream (the hub)" : "two upstream streams (RELAY_HUB=off)"}, the proxy counts ${open - before}`,
      );
  } finally {
    for (const stream of streams) stream.abort();
  }
}

async function openStream(
  relayUrl: string,
  channel: string,
  authorization: string,
): Promise<AbortController> {
  const controller = new AbortController();
  const response = await fetch(`${relayUrl}/v1/channels/${channel}/events`, {
    headers: { authorization, accept: "text/event-stream" },
    signal: controller.signal,
  });
  if (response.status !== 200) throw new Error(`opening a check stream answered ${response.status}`);
  response.body
    ?.getReader()
    .read()
    .catch(() => {});
  return controller;
}

async function openUpstreams(stack: RelayBenchStack): Promise<number> {
  return (await scrapeProxyMetrics(stack.proxyUrl)).openStreams;
}
