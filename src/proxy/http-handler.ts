import type { IncomingMessage, ServerResponse } from "node:http";
import { ResponseHeaders, sendJson } from "./http-responses.ts";
import type { Endpoint } from "./metrics.ts";
import { Refusal, toRefusal } from "./routes/refusal.ts";
import type { HandlerContext, RouteServices } from "./routes/route.ts";
import { routeFor } from "./routes/table.ts";
import { presentedToken, type TokenGrant } from "./tokens.ts";

export type { HandlerContext } from "./routes/route.ts";

/**
 * The proxy's HTTP front on plain node:http: CORS preflight, then the route for the path (routes/table.ts),
 * its token (401 first), its method (405 with `Allow`), then the route itself. Every answer that is not a
 * stream is JSON, errors included; every request is counted in the metrics under its endpoint.
 */
export class HttpHandler {
  private readonly services: RouteServices;

  constructor(context: HandlerContext) {
    this.services = { context, headers: new ResponseHeaders(context.options.corsOrigin) };
  }

  handle = (request: IncomingMessage, response: ServerResponse): void => {
    const started = performance.now();
    const rawUrl = request.url ?? "/";
    const queryAt = rawUrl.indexOf("?");
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? "" : rawUrl.slice(queryAt + 1));
    const method = request.method ?? "GET";
    const endpoint: Endpoint = method === "OPTIONS" ? "preflight" : routeFor(path).endpoint;
    const { context, headers } = this.services;
    let status = 200;
    this.serve(method, path, query, request, response)
      .then((answered) => {
        status = answered;
      })
      .catch((error: unknown) => {
        const refusal = toRefusal(error);
        context.metrics.error(refusal.kind);
        status = refusal.status;
        const extra: Record<string, string> =
          refusal.status === 503 || refusal.status === 504 ? { "retry-after": "1" } : {};
        if (refusal.allow) extra.allow = refusal.allow.join(", ");
        sendJson(response, refusal.status, { error: refusal.message }, { ...headers.common(), ...extra });
      })
      .finally(() => {
        const isStream = endpoint === "subscribe" || endpoint === "psubscribe";
        context.metrics.request(
          endpoint,
          status,
          isStream ? undefined : (performance.now() - started) / 1000,
        );
      });
  };

  private async serve(
    method: string,
    path: string,
    query: URLSearchParams,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<number> {
    if (method === "OPTIONS") {
      response.writeHead(
        204,
        this.services.headers.preflight(request.headers["access-control-request-headers"]),
      );
      response.end();
      return 204;
    }
    const route = routeFor(path);
    const grant = route.open ? undefined : this.authorize(request, query);
    if (!route.methods.includes(method)) {
      throw new Refusal(405, route.wrongMethod(method, path), "input", route.methods);
    }
    if (!route.open) rejectOtherResponseFormats(request);
    return route.serve({ method, path, query, request, response, grant }, this.services);
  }

  private authorize(request: IncomingMessage, query: URLSearchParams): TokenGrant {
    const token = presentedToken(request.headers.authorization, query);
    const grant = token === undefined ? undefined : this.services.context.options.tokens.get(token);
    if (!grant) throw new Refusal(401, "Unauthorized", "auth");
    return grant;
  }
}

/** Answering JSON to a client that asked for raw RESP would be misread; say so instead. */
function rejectOtherResponseFormats(request: IncomingMessage): void {
  const format = request.headers["upstash-response-format"];
  if (format !== undefined && String(format).trim().toLowerCase() !== "json") {
    throw new Refusal(
      400,
      `ERR Upstash-Response-Format ${String(format)} is not supported; this proxy answers json`,
      "input",
    );
  }
}
