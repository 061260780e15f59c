import { sendJson } from "../http-responses.ts";
import type { ProxyRoute } from "./route.ts";

/** `GET /healthz`: 200 when every configured Redis answers PING, else 503 naming those that do not. No token. */
export const healthRoute: ProxyRoute = {
  endpoint: "healthz",
  methods: ["GET", "HEAD"],
  wrongMethod: (method) => `ERR /healthz takes GET or HEAD, got ${method}`,
  open: true,
  async serve({ response }, { context, headers }) {
    const checks = await Promise.all(
      [...context.backends.values()].map(async (backend) => ({
        redis: backend.label,
        ok: await backend.ping(),
      })),
    );
    const ok = checks.every((check) => check.ok);
    const status = ok ? 200 : 503;
    sendJson(
      response,
      status,
      ok
        ? { ok: true }
        : { ok: false, error: "Redis does not answer PING", redis: checks.filter((check) => !check.ok) },
      headers.common(),
    );
    return status;
  },
};

/** `GET /metrics`: Prometheus text. No token (scrapers), nothing secret in it. */
export const metricsRoute: ProxyRoute = {
  endpoint: "metrics",
  methods: ["GET"],
  wrongMethod: (method) => `ERR /metrics takes GET, got ${method}`,
  open: true,
  async serve({ response }, { context, headers }) {
    const text = context.renderMetrics();
    response.writeHead(200, {
      ...headers.common(),
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
    response.end(text);
    return 200;
  },
};
