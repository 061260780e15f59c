import { Agent, request } from "node:http";

/**
 * The long-poll loops' HTTP client: node:http on keep-alive connections. The loops run on the same two cores as
 * the servers they measure, and undici's fetch cost the client 0.35-0.8 ms of CPU per poll, more than the relay
 * spent answering it; XREAD BLOCK's loops (ioredis) cost a fraction of that. Both the relay's loops and the 404
 * route's baseline use this client, so their ratio is unchanged by it (docs/benchmarks.md).
 */
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

export interface HttpAnswer {
  status: number;
  text: string;
}

export function httpGet(
  url: string,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { agent, headers, signal }, (incoming) => {
      let text = "";
      incoming.setEncoding("utf8");
      incoming.on("data", (chunk: string) => {
        text += chunk;
      });
      incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, text }));
      incoming.on("error", reject);
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}
