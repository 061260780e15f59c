import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/**
 * Headers every answer carries: CORS (so browsers may call the proxy and read the sync token) and a fresh
 * `upstash-sync-token`. A single Redis primary is read-your-writes consistent already, so the token only
 * has to change on every response, which the client's read-your-writes logic expects.
 */
export class ResponseHeaders {
  private readonly origin: string;
  private readonly bootId = Math.random().toString(36).slice(2, 10);
  private counter = 0;

  constructor(corsOrigin: string) {
    this.origin = corsOrigin;
  }

  common(): Record<string, string> {
    this.counter++;
    return {
      "access-control-allow-origin": this.origin,
      "access-control-expose-headers": "upstash-sync-token",
      "upstash-sync-token": `${this.bootId}-${this.counter}`,
      ...(this.origin === "*" ? {} : { vary: "Origin" }),
    };
  }

  /** Preflight: any of our methods, and whatever headers the client asks for (Upstash-*, Authorization ...). */
  preflight(requestedHeaders: string | undefined): Record<string, string> {
    return {
      ...this.common(),
      "access-control-allow-methods": "GET, POST, PUT, HEAD, OPTIONS",
      "access-control-allow-headers":
        requestedHeaders ??
        "authorization, content-type, upstash-encoding, upstash-sync-token, upstash-telemetry-sdk, upstash-telemetry-platform, upstash-telemetry-runtime",
      "access-control-max-age": "86400",
    };
  }
}

/** Writes a JSON answer with a Content-Length (no chunking for ordinary replies). */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

/**
 * node:http's own answer to a request it cannot parse (headers too large, malformed request line) is an
 * empty body, which @upstash/redis reports as a JSON parse error; answer with JSON instead.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
  const status = tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request";
  const body = JSON.stringify({
    error: tooLarge
      ? "ERR request line and headers are too large (the URL carries too much; send arguments in a POST body)"
      : `ERR malformed HTTP request (${error.code ?? error.message})`,
  });
  socket.end(
    `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `access-control-allow-origin: *\r\nconnection: close\r\n\r\n${body}`,
  );
}
