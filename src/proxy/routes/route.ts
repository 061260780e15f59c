import type { IncomingMessage, ServerResponse } from "node:http";
import type { ResponseHeaders } from "../http-responses.ts";
import type { Endpoint, ProxyMetrics } from "../metrics.ts";
import type { ResolvedOptions } from "../options.ts";
import type { RedisBackend } from "../redis-backend.ts";
import type { SubscribeStream } from "../subscribe-stream.ts";
import type { TokenGrant } from "../tokens.ts";

/** What the proxy's routes share: its options, backends, metrics, open streams and response headers. */
export interface HandlerContext {
  options: ResolvedOptions;
  backends: Map<string, RedisBackend>;
  metrics: ProxyMetrics;
  streams: Set<SubscribeStream>;
  /** Redis's PING through every backend, plus the metrics gauges. */
  renderMetrics(): string;
}

export interface RouteServices {
  context: HandlerContext;
  headers: ResponseHeaders;
}

/** One request as a route sees it; `grant` is set for routes that need a token (checked before the route runs). */
export interface RouteRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  request: IncomingMessage;
  response: ServerResponse;
  grant: TokenGrant | undefined;
}

/** One endpoint of the proxy (src/proxy/routes/table.ts lists them; docs/proxy.md describes them). */
export interface ProxyRoute {
  endpoint: Endpoint;
  /** The methods it serves; any other is 405 with `Allow` listing these. */
  methods: readonly string[];
  /** The 405 error text for another method. */
  wrongMethod(method: string, path: string): string;
  /** Served without a token (health and metrics, for probes and scrapers). */
  open?: boolean;
  /** Serves the request; resolves with the status sent. */
  serve(request: RouteRequest, services: RouteServices): Promise<number>;
}
