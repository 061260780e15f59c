import type { Redis as NodeRedis } from "@upstash/redis";
import { Redis } from "@upstash/redis/cloudflare";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { mintToken, type RelayTarget } from "../../scenarios/harness.ts";

export interface SocketTargetOptions {
  runtime: RelayTarget["runtime"];
  /** Base URL of the relay's listening socket, read at each request (it is known only once the server is up). */
  baseUrl(): string;
  upstashUrl: string;
  upstashToken: string;
  /** The relay runs the delivery hub (see RelayTarget.hub). */
  hub?: boolean;
  /** Redis behind the proxy is a Redis Cluster (see RelayTarget.cluster). */
  cluster?: boolean;
}

/**
 * A relay reached over a real loopback socket with the runtime's own `fetch` (what a browser or any HTTP
 * client sees), plus direct Redis through the REST proxy. Web APIs only, so Node and Deno share it.
 */
export function socketTarget(options: SocketTargetOptions): RelayTarget {
  const redis = new Redis({
    url: options.upstashUrl,
    token: options.upstashToken,
    automaticDeserialization: false,
    responseEncoding: false,
    enableAutoPipelining: false,
    retry: false,
    enableTelemetry: false,
  });
  return {
    runtime: options.runtime,
    hub: options.hub ?? false,
    cluster: options.cluster ?? false,
    fetch: (path, init) => fetch(new URL(path, options.baseUrl()), init),
    token: (scope, tokenOptions) => mintToken(TEST_JWT_SECRET, scope, tokenOptions),
    redis: redis as unknown as NodeRedis,
  };
}
