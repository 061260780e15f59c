/** Endpoint label of a request, a small fixed set so metric cardinality stays bounded. */
export type Endpoint =
  | "command"
  | "pipeline"
  | "multi-exec"
  | "path-command"
  | "subscribe"
  | "psubscribe"
  | "healthz"
  | "metrics"
  | "preflight"
  | "other";

const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

interface Histogram {
  buckets: number[];
  count: number;
  sum: number;
}

/** Live values read at scrape time. */
export interface Gauges {
  openStreams: number;
  subscriptions: { channels: number; patterns: number };
  blockingActive: number;
  /** One entry per Redis: its redacted URL and whether the command and subscriber connections are up. */
  redis: Array<{ label: string; commandsUp: boolean; subscriberUp: boolean }>;
}

/**
 * A hand-written Prometheus text exposition: a handful of counters and one histogram do not justify a
 * dependency, and this keeps the hot path to a few Map updates.
 */
export class ProxyMetrics {
  private readonly requests = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  private readonly latency = new Map<Endpoint, Histogram>();
  private streamsOpened = 0;
  private streamsClosedSlow = 0;

  /** A finished request (streams count when they open). */
  request(endpoint: Endpoint, status: number, seconds: number | undefined): void {
    const key = `endpoint="${endpoint}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    if (seconds === undefined) return;
    let histogram = this.latency.get(endpoint);
    if (!histogram) {
      histogram = { buckets: LATENCY_BUCKETS_SECONDS.map(() => 0), count: 0, sum: 0 };
      this.latency.set(endpoint, histogram);
    }
    const bucket = LATENCY_BUCKETS_SECONDS.findIndex((limit) => seconds <= limit);
    if (bucket !== -1) histogram.buckets[bucket] = (histogram.buckets[bucket] ?? 0) + 1;
    histogram.count++;
    histogram.sum += seconds;
  }

  /** An error answer, by kind: redis (Redis's own error text), unavailable, refused, auth, input, internal. */
  error(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  streamOpened(): void {
    this.streamsOpened++;
  }

  streamClosedSlow(): void {
    this.streamsClosedSlow++;
  }

  render(gauges: Gauges): string {
    const lines: string[] = [];
    const add = (name: string, type: string, help: string, samples: string[]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
    };
    add(
      "upstash_proxy_requests_total",
      "counter",
      "HTTP requests answered, by endpoint and status.",
      [...this.requests].map(([labels, value]) => `upstash_proxy_requests_total{${labels}} ${value}`),
    );
    add(
      "upstash_proxy_errors_total",
      "counter",
      "Error answers by kind (redis, unavailable, refused, auth, input, internal).",
      [...this.errors].map(([kind, value]) => `upstash_proxy_errors_total{kind="${kind}"} ${value}`),
    );
    const histogramLines: string[] = [];
    for (const [endpoint, histogram] of this.latency) {
      let cumulative = 0;
      LATENCY_BUCKETS_SECONDS.forEach((limit, index) => {
        cumulative += histogram.buckets[index] ?? 0;
        histogramLines.push(
          `upstash_proxy_request_duration_seconds_bucket{endpoint="${endpoint}",le="${limit}"} ${cumulative}`,
        );
      });
      histogramLines.push(
        `upstash_proxy_request_duration_seconds_bucket{endpoint="${endpoint}",le="+Inf"} ${histogram.count}`,
        `upstash_proxy_request_duration_seconds_sum{endpoint="${endpoint}"} ${histogram.sum}`,
        `upstash_proxy_request_duration_seconds_count{endpoint="${endpoint}"} ${histogram.count}`,
      );
    }
    add(
      "upstash_proxy_request_duration_seconds",
      "histogram",
      "Time to answer a request (streams excluded).",
      histogramLines,
    );
    add("upstash_proxy_open_streams", "gauge", "Subscribe streams open now.", [
      `upstash_proxy_open_streams ${gauges.openStreams}`,
    ]);
    add("upstash_proxy_streams_opened_total", "counter", "Subscribe streams opened.", [
      `upstash_proxy_streams_opened_total ${this.streamsOpened}`,
    ]);
    add(
      "upstash_proxy_streams_closed_slow_total",
      "counter",
      "Streams closed because the client read too slowly.",
      [`upstash_proxy_streams_closed_slow_total ${this.streamsClosedSlow}`],
    );
    add("upstash_proxy_redis_subscriptions", "gauge", "Distinct channels and patterns subscribed on Redis.", [
      `upstash_proxy_redis_subscriptions{kind="channel"} ${gauges.subscriptions.channels}`,
      `upstash_proxy_redis_subscriptions{kind="pattern"} ${gauges.subscriptions.patterns}`,
    ]);
    add(
      "upstash_proxy_blocking_connections_active",
      "gauge",
      "Dedicated connections running a blocking command.",
      [`upstash_proxy_blocking_connections_active ${gauges.blockingActive}`],
    );
    add(
      "upstash_proxy_redis_up",
      "gauge",
      "1 when the connection to Redis is ready, by Redis and connection role.",
      gauges.redis.flatMap(({ label, commandsUp, subscriberUp }) => [
        `upstash_proxy_redis_up{redis="${escapeLabel(label)}",role="commands"} ${commandsUp ? 1 : 0}`,
        `upstash_proxy_redis_up{redis="${escapeLabel(label)}",role="subscriber"} ${subscriberUp ? 1 : 0}`,
      ]),
    );
    return `${lines.join("\n")}\n`;
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
