import { type IncomingMessage, request } from "node:http";
import type { Redis as TcpRedis } from "ioredis";
import { LatencySamples } from "./lib/latency.ts";
import { residentBytes } from "./relay/proc.ts";

export interface FanoutResult {
  streams: number;
  messages: number;
  /** Deliveries per second while a burst of messages reached every stream. */
  deliveriesPerSecond: number;
  /** PUBLISH until the last of all streams had the message, one message at a time. */
  p50: number;
  p99: number;
  /** Proxy resident memory growth per open stream, in bytes. */
  bytesPerStream: number;
}

/**
 * Opens `streams` subscribe streams on one channel (node:http, one connection each), then PUBLISHes over
 * TCP and waits until every stream has each message. Latency: one message at a time; throughput: a burst.
 */
export async function measureFanout(options: {
  proxyUrl: string;
  token: string;
  proxyPid: number;
  publisher: TcpRedis;
  channel: string;
  streams: number;
  latencyMessages: number;
  burstMessages: number;
}): Promise<FanoutResult> {
  const { proxyUrl, token, proxyPid, publisher, channel, streams } = options;
  const counts = new Map<number, number>();
  const waiters = new Map<number, () => void>();
  const receive = (seq: number) => {
    const count = (counts.get(seq) ?? 0) + 1;
    counts.set(seq, count);
    if (count === streams) waiters.get(seq)?.();
  };
  const allReceived = (seq: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`message ${seq} reached ${counts.get(seq) ?? 0}/${streams} streams in 30 s`)),
        30_000,
      );
      waiters.set(seq, () => {
        clearTimeout(timer);
        resolve();
      });
    });

  await settle();
  const before = residentBytes(proxyPid);
  const responses: IncomingMessage[] = [];
  const batch = 100; // open in batches so the listen backlog never overflows
  for (let opened = 0; opened < streams; opened += batch) {
    const size = Math.min(batch, streams - opened);
    responses.push(
      ...(await Promise.all(
        Array.from({ length: size }, () => openStream(proxyUrl, token, channel, receive)),
      )),
    );
  }
  await settle();
  const after = residentBytes(proxyPid);
  try {
    let seq = 0;
    const latencies = new LatencySamples();
    for (let index = 0; index < options.latencyMessages; index++) {
      const current = seq++;
      const done = allReceived(current);
      const started = performance.now();
      await publisher.publish(channel, String(current));
      await done;
      latencies.add(performance.now() - started);
    }
    const first = seq;
    const burst = Array.from({ length: options.burstMessages }, () => seq++);
    const done = Promise.all(burst.map(allReceived));
    const started = performance.now();
    await Promise.all(burst.map((current) => publisher.publish(channel, String(current))));
    await done;
    const seconds = (performance.now() - started) / 1000;
    if (counts.get(first) !== streams) throw new Error("burst accounting is off");
    return {
      streams,
      messages: options.latencyMessages + options.burstMessages,
      deliveriesPerSecond: (options.burstMessages * streams) / seconds,
      p50: latencies.percentile(50),
      p99: latencies.percentile(99),
      bytesPerStream: Math.max(0, after - before) / streams,
    };
  } finally {
    for (const response of responses) response.destroy();
  }
}

/** One stream: resolves once its `subscribe` line arrived; counts each `message` line by its sequence number. */
function openStream(
  proxyUrl: string,
  token: string,
  channel: string,
  receive: (seq: number) => void,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const outgoing = request(`${proxyUrl}/subscribe/${channel}`, {
      method: "POST",
      agent: false,
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
    });
    outgoing.once("error", reject);
    outgoing.once("response", (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`subscribe answered ${response.statusCode}`));
        return;
      }
      response.setEncoding("utf8");
      let buffered = "";
      let subscribed = false;
      response.on("data", (chunk: string) => {
        buffered += chunk;
        let end = buffered.indexOf("\n\n");
        while (end !== -1) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (event.startsWith(`data: message,${channel},`))
            receive(Number(event.slice(channel.length + 15)));
          else if (!subscribed && event.startsWith("data: subscribe,")) {
            subscribed = true;
            resolve(response);
          }
          end = buffered.indexOf("\n\n");
        }
      });
      response.on("error", () => {});
    });
    outgoing.end("[]");
  });
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1000));
}
