import { connect, type Socket } from "node:net";
import { HttpResponseParser, type ParsedResponse } from "./http-response-parser.ts";

/**
 * The long-poll loops' HTTP client: one raw `node:net` keep-alive socket per loop, a request head built once
 * (only the path changes per request) and a parser that reads just the status line, the framing headers and
 * the body (http-response-parser.ts). Why so bare: the loops share the machine's two cores with the relay,
 * the proxy and Redis, and the XREAD BLOCK loops they are compared with use ioredis, which writes a prebuilt
 * command and parses a RESP reply. node:http cost the client about 0.17 ms of CPU per poll (undici's fetch
 * 0.35-0.8 ms), as much as the relay spent answering; a heavier client on one side of the ratio measures the
 * client. Both the relay's loops and the 404 route's baseline use this client, so that ratio stays fair too
 * (docs/benchmarks.md). A loop waits for each answer before it asks again: one request in flight per socket,
 * never pipelined.
 */
export interface HttpAnswer {
  status: number;
  text: string;
}

interface InFlight {
  request: string;
  resolve: (answer: HttpAnswer) => void;
  reject: (error: unknown) => void;
  /** Sent on a socket that had already served an answer: if it closes before any byte, resend once. */
  onReusedSocket: boolean;
  retried: boolean;
}

export class HttpConnection {
  private readonly host: string;
  private readonly port: number;
  /** Everything after the request target: the version, Host and the fixed headers, then the blank line. */
  private readonly tail: string;
  private socket: Socket | undefined;
  private parser = new HttpResponseParser();
  private served = 0;
  private inFlight: InFlight | undefined;

  /** `origin`: http://host:port; `headers` go on every request. */
  constructor(origin: string, headers: Record<string, string> = {}) {
    const url = new URL(origin);
    if (url.protocol !== "http:")
      throw new Error(`HttpConnection speaks plain http only, not ${url.protocol}`);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    const lines = Object.entries({ Host: url.host, ...headers }).map(
      ([name, value]) => `${name}: ${value}\r\n`,
    );
    this.tail = ` HTTP/1.1\r\n${lines.join("")}\r\n`;
  }

  /** GET `path` (with its query); rejects on a network or protocol error, or when `signal` aborts. */
  get(path: string, signal?: AbortSignal): Promise<HttpAnswer> {
    if (this.inFlight) return Promise.reject(new Error("one request at a time: this client never pipelines"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<HttpAnswer>((resolve, reject) => {
      const onAbort = () => {
        this.drop();
        this.settle(undefined, signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.inFlight = {
        request: `GET ${path}${this.tail}`,
        resolve: (answer) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(answer);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
        onReusedSocket: false,
        retried: false,
      };
      this.send(this.inFlight);
    });
  }

  close(): void {
    this.drop();
    this.settle(undefined, new Error("the connection was closed"));
  }

  private send(inFlight: InFlight): void {
    const socket = this.socket ?? this.open();
    inFlight.onReusedSocket = this.served > 0;
    socket.write(inFlight.request);
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    const parser = new HttpResponseParser();
    this.socket = socket;
    this.parser = parser;
    this.served = 0;
    socket.on("data", (chunk: Buffer) => {
      if (socket !== this.socket) return;
      let answer: ParsedResponse | undefined;
      try {
        answer = parser.push(chunk);
      } catch (error) {
        this.drop();
        this.settle(undefined, error);
        return;
      }
      if (answer === undefined) return;
      this.served++;
      if (answer.close) this.drop();
      this.settle({ status: answer.status, text: answer.text });
    });
    socket.on("error", (error) => this.lost(socket, error));
    socket.on("close", () => this.lost(socket, new Error("the server closed the connection")));
    return socket;
  }

  /** The socket ended: a close-delimited answer, a resend on a fresh socket (stale keep-alive), or the error. */
  private lost(socket: Socket, error: Error): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    const inFlight = this.inFlight;
    if (!inFlight) return;
    let answer: ParsedResponse | undefined;
    try {
      answer = this.parser.end();
    } catch (cut) {
      this.settle(undefined, cut);
      return;
    }
    if (answer) this.settle({ status: answer.status, text: answer.text });
    else if (inFlight.onReusedSocket && !inFlight.retried) {
      inFlight.retried = true;
      this.send(inFlight);
    } else this.settle(undefined, error);
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }

  private settle(answer: HttpAnswer | undefined, error?: unknown): void {
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    if (!inFlight) return;
    if (answer) inFlight.resolve(answer);
    else inFlight.reject(error);
  }
}
