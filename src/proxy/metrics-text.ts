import type { Endpoint } from "./metrics.ts";

/** Endpoints whose requests never reach Redis: the proxy's own pages, preflights and unrouted paths. */
const NOT_REDIS: ReadonlySet<Endpoint> = new Set<Endpoint>(["metrics", "healthz", "preflight", "other"]);

/** The figures the bench and the tests read from the proxy's Prometheus text (rendered by metrics.ts). */
export interface ProxyMetricsReading {
  /** `upstash_proxy_open_streams`: subscribe streams open now. */
  openStreams: number;
  /** `upstash_proxy_requests_total` summed over the endpoints that reach Redis, every status. */
  redisRequests: number;
}

/** Parses the proxy's /metrics text; throws when the open-streams gauge is missing (not the proxy's text). */
export function readProxyMetrics(text: string): ProxyMetricsReading {
  const openStreams = /^upstash_proxy_open_streams (\d+)$/m.exec(text)?.[1];
  if (openStreams === undefined)
    throw new Error(`no upstash_proxy_open_streams in the proxy's metrics:\n${text.slice(0, 2000)}`);
  let redisRequests = 0;
  for (const match of text.matchAll(/^upstash_proxy_requests_total\{endpoint="([a-z-]+)",[^}]*\} (\d+)$/gm)) {
    if (!NOT_REDIS.has(match[1] as Endpoint)) redisRequests += Number(match[2]);
  }
  return { openStreams: Number(openStreams), redisRequests };
}

/** Fetches and parses `<proxyUrl>/metrics`. */
export async function scrapeProxyMetrics(proxyUrl: string): Promise<ProxyMetricsReading> {
  const response = await fetch(`${proxyUrl}/metrics`);
  if (response.status !== 200) throw new Error(`the proxy's /metrics answered ${response.status}`);
  return readProxyMetrics(await response.text());
}
