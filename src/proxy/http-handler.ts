import type { IncomingMessage, ServerResponse } from "node:http";
import { BlockingPoolBusyError, BlockingTimeoutError } from "./blocking-pool.ts";
import { CommandInputError, parseCommand, parseCommandList, type RedisCommand } from "./command-input.ts";
import { classifyCommand, refusalMessage } from "./command-policy.ts";
import { encodeReply, type ResponseEncoding, responseEncodingOf } from "./encode.ts";
import { ResponseHeaders, sendJson } from "./http-responses.ts";
import type { Endpoint, ProxyMetrics } from "./metrics.ts";
import type { ResolvedOptions } from "./options.ts";
import { pathCommand } from "./path-command.ts";
import type { RedisBackend, SlotOutcome } from "./redis-backend.ts";
import { RedisOutcomeUnknownError, RedisUnavailableError } from "./redis-connection.ts";
import { isRedisReplyError } from "./reply.ts";
import { BodyTooLargeError, parseJsonBody, readBody } from "./request-body.ts";
import { SubscribeStream, streamNames } from "./subscribe-stream.ts";
import { presentedToken, type TokenGrant } from "./tokens.ts";

export interface HandlerContext {
  options: ResolvedOptions;
  backends: Map<string, RedisBackend>;
  metrics: ProxyMetrics;
  streams: Set<SubscribeStream>;
  /** Redis's PING through every backend, plus the metrics gauges. */
  renderMetrics(): string;
}

/** What a command request carries from routing to its answer. */
interface CommandCall {
  grant: TokenGrant;
  backend: RedisBackend;
  encoding: ResponseEncoding;
  response: ServerResponse;
  signal: AbortSignal | undefined;
}

/** A request the proxy will not serve: status and the `{"error"}` text. */
class Refusal extends Error {
  readonly status: number;
  readonly kind: string;
  constructor(status: number, message: string, kind: string) {
    super(message);
    this.status = status;
    this.kind = kind;
  }
}

const ALLOWED_METHODS = new Set(["GET", "POST", "PUT", "HEAD"]);

/**
 * The proxy's whole HTTP surface, on plain node:http: `POST /`, `/pipeline`, `/multi-exec`,
 * `/subscribe/*`, `/psubscribe/*`, path-style `/<cmd>/<args>`, `/healthz`, `/metrics`, CORS preflight.
 * Every answer that is not a stream is JSON, errors included.
 */
export class HttpHandler {
  private readonly context: HandlerContext;
  private readonly headers: ResponseHeaders;

  constructor(context: HandlerContext) {
    this.context = context;
    this.headers = new ResponseHeaders(context.options.corsOrigin);
  }

  handle = (request: IncomingMessage, response: ServerResponse): void => {
    const started = performance.now();
    const rawUrl = request.url ?? "/";
    const queryAt = rawUrl.indexOf("?");
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? "" : rawUrl.slice(queryAt + 1));
    const endpoint = endpointOf(request.method ?? "GET", path);
    let status = 200;
    this.route(endpoint, path, query, request, response)
      .then((answered) => {
        status = answered;
      })
      .catch((error: unknown) => {
        const refusal = toRefusal(error);
        this.context.metrics.error(refusal.kind);
        status = refusal.status;
        const retry: Record<string, string> =
          refusal.status === 503 || refusal.status === 504 ? { "retry-after": "1" } : {};
        sendJson(
          response,
          refusal.status,
          { error: refusal.message },
          { ...this.headers.common(), ...retry },
        );
      })
      .finally(() => {
        const isStream = endpoint === "subscribe" || endpoint === "psubscribe";
        this.context.metrics.request(
          endpoint,
          status,
          isStream ? undefined : (performance.now() - started) / 1000,
        );
      });
  };

  /** Serves the request; resolves with the status sent. */
  private async route(
    endpoint: Endpoint,
    path: string,
    query: URLSearchParams,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<number> {
    const method = request.method ?? "GET";
    if (endpoint === "preflight") {
      response.writeHead(204, this.headers.preflight(request.headers["access-control-request-headers"]));
      response.end();
      return 204;
    }
    if (endpoint === "healthz") return this.health(response);
    if (endpoint === "metrics") {
      const text = this.context.renderMetrics();
      response.writeHead(200, {
        ...this.headers.common(),
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
      });
      response.end(text);
      return 200;
    }
    const grant = this.authorize(request, query);
    if (!ALLOWED_METHODS.has(method)) {
      throw new Refusal(
        405,
        `ERR method ${method} is not allowed; use POST (or GET, PUT, HEAD for path-style commands)`,
        "input",
      );
    }
    const format = request.headers["upstash-response-format"];
    if (format !== undefined && String(format).trim().toLowerCase() !== "json") {
      // Answering JSON to a client that asked for raw RESP would be misread; say so instead.
      throw new Refusal(
        400,
        `ERR Upstash-Response-Format ${String(format)} is not supported; this proxy answers json`,
        "input",
      );
    }
    const backend = this.backendFor(grant);
    const call: CommandCall = {
      grant,
      backend,
      response,
      encoding: responseEncodingOf(request.headers["upstash-encoding"]),
      // Only blocking commands can be stopped when the client leaves; others skip the listener.
      signal: backend.blockingAllowed ? abortSignalOf(response) : undefined,
    };

    switch (endpoint) {
      case "subscribe":
      case "psubscribe":
        if (method !== "POST" && method !== "GET") {
          throw new Refusal(405, `ERR ${endpoint} streams take POST (or GET), got ${method}`, "input");
        }
        return this.subscribe(endpoint, path, request, response, backend);
      case "command": {
        requirePost(method, path);
        const command = parseCommand(parseJsonBody(await this.body(request)));
        return this.single(command, call);
      }
      case "path-command": {
        const body = method === "POST" || method === "PUT" ? await this.body(request) : undefined;
        const command = pathCommand(path, query, body);
        return this.single(command, call);
      }
      case "pipeline": {
        requirePost(method, path);
        const commands = parseCommandList(parseJsonBody(await this.body(request)));
        return this.pipeline(commands, call);
      }
      case "multi-exec": {
        requirePost(method, path);
        const commands = parseCommandList(parseJsonBody(await this.body(request)));
        return this.transaction(commands, call);
      }
      default:
        throw new Refusal(404, `ERR unknown endpoint ${path}`, "input");
    }
  }

  private authorize(request: IncomingMessage, query: URLSearchParams): TokenGrant {
    const token = presentedToken(request.headers.authorization, query);
    const grant = token === undefined ? undefined : this.context.options.tokens.get(token);
    if (!grant) throw new Refusal(401, "Unauthorized", "auth");
    return grant;
  }

  private backendFor(grant: TokenGrant): RedisBackend {
    const backend = this.context.backends.get(grant.redisUrl);
    if (!backend) throw new Error(`no Redis backend for a configured token (${grant.redisUrl})`);
    return backend;
  }

  private body(request: IncomingMessage): Promise<Buffer> {
    return readBody(request, this.context.options.maxBodyBytes);
  }

  private async single(
    command: RedisCommand,
    { grant, backend, encoding, response, signal }: CommandCall,
  ): Promise<number> {
    const refused = await this.refusal(command, grant, backend, "single");
    if (refused) throw new Refusal(400, refused, "refused");
    const reply = await backend.execute(command, signal);
    sendJson(response, 200, { result: encodeReply(reply, encoding) }, this.headers.common());
    return 200;
  }

  private async pipeline(
    commands: RedisCommand[],
    { grant, backend, encoding, response, signal }: CommandCall,
  ): Promise<number> {
    // A refused command gets its error in its slot; the others still run, in order, as a pipeline would.
    const refusals = await Promise.all(
      commands.map((command) => this.refusal(command, grant, backend, "pipeline")),
    );
    const runnable = commands.filter((_, index) => refusals[index] === undefined);
    const outcomes = runnable.length > 0 ? await backend.pipeline(runnable, signal) : [];
    let next = 0;
    const slots = refusals.map((refused) =>
      refused === undefined ? (outcomes[next++] as SlotOutcome) : { error: refused },
    );
    sendJson(
      response,
      200,
      slots.map((outcome) => encodeSlot(outcome, encoding)),
      this.headers.common(),
    );
    return 200;
  }

  private async transaction(
    commands: RedisCommand[],
    { grant, backend, encoding, response }: CommandCall,
  ): Promise<number> {
    // Like a queue-time error, a refused command discards the whole transaction before anything runs.
    for (const [index, command] of commands.entries()) {
      const refused = await this.refusal(command, grant, backend, "transaction");
      if (refused) {
        throw new Refusal(
          400,
          `EXECABORT Transaction discarded: command ${index + 1}: ${refused}`,
          "refused",
        );
      }
    }
    const outcomes = await backend.transaction(commands);
    sendJson(
      response,
      200,
      outcomes.map((outcome) => encodeSlot(outcome, encoding)),
      this.headers.common(),
    );
    return 200;
  }

  /** Why the command may not run for this token here, or undefined when it may. */
  private async refusal(
    command: RedisCommand,
    grant: TokenGrant,
    backend: RedisBackend,
    where: "single" | "pipeline" | "transaction",
  ): Promise<string | undefined> {
    const kind = classifyCommand(command);
    if (kind === "connection-state") return refusalMessage(command, kind);
    // Inside MULTI Redis runs blocking commands without blocking, so a transaction may hold them.
    if (kind === "blocking" && where !== "transaction" && !backend.blockingAllowed)
      return refusalMessage(command, kind);
    if (grant.readOnly && !(await backend.isReadOnly(command))) {
      return `NOPERM this token is read-only and cannot run '${command.name}'`;
    }
    return undefined;
  }

  private async subscribe(
    endpoint: "subscribe" | "psubscribe",
    path: string,
    request: IncomingMessage,
    response: ServerResponse,
    backend: RedisBackend,
  ): Promise<number> {
    request.resume(); // the client sends `[]`; nothing in it matters
    const names = streamNames(path.slice(endpoint.length + 2), this.context.options.maxNamesPerStream);
    const { metrics, streams, options } = this.context;
    const stream = new SubscribeStream(response, endpoint === "subscribe" ? "channel" : "pattern", names, {
      readyWaitMs: options.readyWaitMs,
      maxBacklogBytes: options.maxStreamBacklogBytes,
      onSlowConsumer: () => metrics.streamClosedSlow(),
    });
    streams.add(stream);
    stream.onEnd = () => streams.delete(stream);
    try {
      await stream.start(request, backend.subscriptions, this.headers.common());
    } catch (error) {
      stream.end();
      throw error;
    }
    metrics.streamOpened();
    return 200;
  }

  private async health(response: ServerResponse): Promise<number> {
    const checks = await Promise.all(
      [...this.context.backends.values()].map(async (backend) => ({
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
      this.headers.common(),
    );
    return status;
  }
}

function endpointOf(method: string, path: string): Endpoint {
  if (method === "OPTIONS") return "preflight";
  if (path === "/") return "command";
  if (path === "/pipeline") return "pipeline";
  if (path === "/multi-exec") return "multi-exec";
  if (path.startsWith("/subscribe/")) return "subscribe";
  if (path.startsWith("/psubscribe/")) return "psubscribe";
  if (path === "/healthz" && (method === "GET" || method === "HEAD")) return "healthz";
  if (path === "/metrics" && method === "GET") return "metrics";
  return "path-command";
}

function requirePost(method: string, path: string): void {
  if (method !== "POST")
    throw new Refusal(405, `ERR ${path} takes POST with a JSON body, got ${method}`, "input");
}

function encodeSlot(outcome: SlotOutcome, encoding: ResponseEncoding) {
  return "error" in outcome ? { error: outcome.error } : { result: encodeReply(outcome.reply, encoding) };
}

/** Aborts when the client goes away before the answer is sent (it stops a blocking command). */
function abortSignalOf(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once("close", () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}

function toRefusal(error: unknown): Refusal {
  if (error instanceof Refusal) return error;
  if (error instanceof CommandInputError) return new Refusal(400, error.message, "input");
  if (error instanceof BodyTooLargeError) return new Refusal(413, error.message, "input");
  if (isRedisReplyError(error)) return new Refusal(400, error.message, "redis");
  if (error instanceof RedisUnavailableError || error instanceof BlockingPoolBusyError) {
    return new Refusal(503, error.message, "unavailable");
  }
  // Sent, no reply: a status of its own so an HTTP client can tell "may have run" from "did not run".
  if (error instanceof RedisOutcomeUnknownError || error instanceof BlockingTimeoutError)
    return new Refusal(504, error.message, "unavailable");
  const message = error instanceof Error ? error.message : String(error);
  return new Refusal(500, `ERR internal proxy error: ${message}`, "internal");
}
