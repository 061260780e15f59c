import { ServerResponse } from "node:http";
import type { Http2Bindings, HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";
import type { RelayEnv } from "../../relay/context.ts";
import { createEventStream, type EventStream } from "../../relay/sse/event-stream.ts";
import type { EventStreamFactory } from "../../relay/sse/response.ts";
import { encodeShared } from "../../relay/sse/shared-bytes.ts";

/** What @hono/node-server passes as `c.env` to the app. */
type NodeBindings = HttpBindings | Http2Bindings;

/**
 * SSE bodies written straight to Node's ServerResponse. Through a web ReadableStream every frame to every
 * subscriber costs an enqueue, a read promise and a turn of @hono/node-server's read loop before `res.write`;
 * here it is the `res.write`, which is also what a plain Node server holding the responses does (the benchmark's
 * fan-out floor), and an open stream holds no web stream, reader or pending promise (docs/sse.md, "The delivery
 * hub").
 *
 * The head cannot go out when the stream is made: middleware still adds headers (CORS, the Redis call count) once
 * the handler has answered. So the app answers as usual, and `sendEventStreams` (around `app.fetch`) writes the
 * final response's status and headers, then what the session wrote meanwhile, and from then on every write goes
 * to the socket at once.
 */
export function socketEventStreams(): {
  /** For `createApp({ eventStreams })`. */
  eventStreams: EventStreamFactory;
  /** Wraps the app's fetch for `serve()`: SSE answers are sent by their stream, the rest by @hono/node-server. */
  fetch(app: (request: Request, env: NodeBindings) => Response | Promise<Response>): typeof app;
} {
  /** Streams made for a response whose head is not out yet, by the response they will write. */
  const unsent = new WeakMap<object, SocketEventStream>();
  const eventStreams = (c: Context<RelayEnv>) => {
    const { outgoing } = c.env as NodeBindings;
    // HTTP/2 (not what `relay serve` listens with) keeps the web stream.
    if (!(outgoing instanceof ServerResponse)) return createEventStream(c.req.raw.signal);
    const stream = new SocketEventStream(outgoing);
    unsent.set(outgoing, stream);
    return stream;
  };
  function send(response: Response, outgoing: object): Response {
    const stream = unsent.get(outgoing);
    if (stream === undefined) return response;
    unsent.delete(outgoing);
    // Another answer replaced the stream's (a middleware failed after the handler): the session must end.
    if (!response.headers.get("content-type")?.startsWith("text/event-stream")) {
      stream.abort();
      return response;
    }
    stream.start(response.status, response.headers);
    return alreadySent();
  }
  return {
    eventStreams,
    fetch: (app) => (request, env) => {
      const response = app(request, env);
      // A synchronous answer stays synchronous: @hono/node-server sends those without awaiting.
      return response instanceof Promise
        ? response.then((answer) => send(answer, env.outgoing))
        : send(response, env.outgoing);
    },
  };
}

class SocketEventStream implements EventStream {
  readonly body = null;
  #aborted = false;
  #closed = false;
  #started = false;
  /** Written before the head went out. */
  #early: Uint8Array[] = [];
  /** Resolves the writer waiting for the socket to drain (or for the head to go out). */
  #resume: (() => void) | undefined;
  #abortListeners: (() => void)[] = [];

  private readonly outgoing: ServerResponse;

  constructor(outgoing: ServerResponse) {
    this.outgoing = outgoing;
  }

  get aborted() {
    return this.#aborted;
  }
  get closed() {
    return this.#closed;
  }
  get waiting() {
    return this.#started && !this.#closed && !this.outgoing.writableNeedDrain;
  }

  write(text: string | Uint8Array): Promise<void> | undefined {
    if (this.#closed) return undefined;
    const bytes = typeof text === "string" ? encodeShared(text) : text;
    if (!this.#started) {
      this.#early.push(bytes);
      return this.#waitForDrain();
    }
    if (this.outgoing.write(bytes)) return undefined;
    return this.#waitForDrain();
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#started) this.outgoing.end();
    this.#release();
  }

  abort() {
    if (this.#aborted) return;
    this.#aborted = true;
    if (!this.#closed) {
      this.#closed = true;
      if (this.#started) {
        // A client that stopped reading would hold the socket (and what is buffered for it) forever: cut it.
        if (this.outgoing.writableNeedDrain) this.outgoing.destroy();
        else this.outgoing.end();
      }
    }
    this.#release();
    for (const listener of this.#abortListeners.splice(0)) {
      try {
        listener();
      } catch {
        // A listener must not stop the others.
      }
    }
  }

  onAbort(listener: () => void) {
    this.#abortListeners.push(listener);
  }

  /** Sends the head and what was written before it; from now on writes go to the socket. */
  start(status: number, headers: Headers) {
    const { outgoing } = this;
    outgoing.once("close", () => {
      // Closed before we ended it: the client went away.
      if (!outgoing.writableFinished) this.abort();
    });
    if (this.#aborted) return;
    if (outgoing.destroyed) {
      this.abort();
      return;
    }
    this.#started = true;
    outgoing.writeHead(status, headerRecord(headers));
    const early = this.#early.splice(0);
    if (early.length === 0) outgoing.flushHeaders();
    let drained = true;
    for (const bytes of early) drained = outgoing.write(bytes);
    if (this.#closed) outgoing.end();
    else if (drained) this.#release();
    else if (this.#resume) outgoing.once("drain", () => this.#release());
  }

  #waitForDrain(): Promise<void> {
    return new Promise((resolve) => {
      this.#resume = resolve;
      if (this.#started) this.outgoing.once("drain", () => this.#release());
    });
  }

  #release() {
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
  }
}

/**
 * @hono/node-server's answer for "the handler sent the response itself". Its RESPONSE_ALREADY_SENT is honoured
 * only on the server's full-response path; a Response made after `serve()` replaced the global class takes its
 * light path, which would write a second head. Reading `body` moves a light response to the full path, and is
 * harmless on a full one, so the answer works whichever class made it.
 */
function alreadySent(): Response {
  const response = new Response(null, { headers: RESPONSE_ALREADY_SENT.headers });
  void response.body;
  return response;
}

/** Node's header record: `set-cookie` keeps its values apart, every other name is one joined value. */
function headerRecord(headers: Headers): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  headers.forEach((value, name) => {
    record[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) record["set-cookie"] = cookies;
  return record;
}
