/**
 * Handing a stream to the holder of its subscription (docs/sse.md, "Workers: a Durable Object per
 * subscription"). A Worker isolate cannot share an upstream subscription between requests, so once a request
 * is authenticated, validated and scope-checked, the Workers entry forwards it to the Durable Object named
 * here, which runs the same app with a hub of its own (and authenticates the forwarded request again).
 */
export type StreamDelegate = (request: Request, objectName: string) => Promise<Response>;

/**
 * The object a subscription belongs to: one channel → that channel's object (its SSE streams and long-polls
 * share it); several channels or any pattern → an object named by the sorted set, so equal sets share one.
 */
export function subscriptionObjectName(subscription: { channels: string[]; patterns: string[] }): string {
  const { channels, patterns } = subscription;
  if (channels.length === 1 && patterns.length === 0) return `channel:${channels[0]}`;
  return `set:${JSON.stringify({ channels: [...channels].sort(), patterns: [...patterns].sort() })}`;
}
