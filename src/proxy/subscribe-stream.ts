import type { IncomingMessage, ServerResponse } from "node:http";
import { SSE_HEADERS } from "../protocol/stream-headers.ts";
import { CommandInputError } from "./command-input.ts";
import { KEEPALIVE_FRAME, streamFrame } from "./stream-frame.ts";
import type { SubscriberHub, SubscriptionKind, SubscriptionListener } from "./subscriber-hub.ts";

export interface StreamSettings {
  readyWaitMs: number;
  maxBacklogBytes: number;
  onSlowConsumer: () => void;
}

/**
 * Channel or pattern names of `/subscribe/<a>/<b>`: each path segment, percent-decoded. A line break
 * cannot travel in the line-based stream, so such names are refused, as is malformed percent-encoding.
 */
export function streamNames(rest: string, maxNames: number): string[] {
  const segments = rest.split("/");
  if (segments.length > maxNames) {
    throw new CommandInputError(
      `ERR one subscribe request may name at most ${maxNames} channels or patterns`,
    );
  }
  return segments.map((segment) => {
    let name: string;
    try {
      name = decodeURIComponent(segment);
    } catch {
      throw new CommandInputError(
        `ERR malformed percent-encoding in subscribe path segment "${segment.slice(0, 200)}"`,
      );
    }
    if (name.length === 0) throw new CommandInputError("ERR empty channel or pattern name in subscribe path");
    if (/[\r\n]/.test(name)) {
      throw new CommandInputError(
        "ERR channel and pattern names cannot contain CR or LF: the stream is line-based",
      );
    }
    return name;
  });
}

/**
 * One HTTP subscribe stream (`text/event-stream` exactly as @upstash/redis parses it): `data: subscribe,<ch>,<n>`
 * once Redis confirmed each name, then `data: message,<ch>,<payload>` / `data: pmessage,<pat>,<ch>,<payload>`,
 * `\n` line endings, `: keepalive` comments. Closing the HTTP stream releases its subscriptions.
 */
export class SubscribeStream implements SubscriptionListener {
  private readonly response: ServerResponse;
  private readonly kind: SubscriptionKind;
  private readonly names: string[];
  private readonly settings: StreamSettings;
  private readonly releases: Array<() => void> = [];
  private open = false;
  private ended = false;
  /** Called once when the stream is over, whoever ended it. */
  onEnd: () => void = () => {};

  constructor(response: ServerResponse, kind: SubscriptionKind, names: string[], settings: StreamSettings) {
    this.response = response;
    this.kind = kind;
    this.names = names;
    this.settings = settings;
  }

  /**
   * Subscribes every name, then sends the status, headers and one `subscribe` line per name. Rejects (and
   * holds nothing) when Redis cannot confirm; the caller answers with a JSON error then.
   */
  async start(request: IncomingMessage, hub: SubscriberHub, headers: Record<string, string>): Promise<void> {
    // The response's "close" fires when the client goes away (the request's fires once its body is read).
    this.response.once("close", () => this.end());
    try {
      for (const name of this.names) {
        const release = await hub.subscribe(this.kind, name, this, this.settings.readyWaitMs);
        this.releases.push(release);
        if (this.ended) break; // the client left while we subscribed
      }
    } catch (error) {
      this.releaseAll();
      throw error;
    }
    if (this.ended) {
      this.releaseAll();
      return;
    }
    request.socket.setNoDelay(true);
    this.response.writeHead(200, {
      ...headers,
      ...SSE_HEADERS,
      connection: "keep-alive",
    });
    this.open = true;
    for (const [index, name] of this.names.entries()) this.write(this.confirmation(name, index + 1));
  }

  deliver(frame: Buffer): void {
    if (this.open) this.write(frame);
  }

  /** After Redis came back: the subscription line again, so a reader knows live delivery resumed. */
  resubscribed(_kind: SubscriptionKind, name: string): void {
    if (this.open) this.write(this.confirmation(name, this.names.indexOf(name) + 1));
  }

  keepalive(): void {
    if (this.open) this.write(KEEPALIVE_FRAME);
  }

  /** Ends the stream (shutdown, slow consumer, client gone). Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.releaseAll();
    if (this.open) {
      this.open = false;
      this.response.end();
    }
    this.onEnd();
  }

  private confirmation(name: string, count: number): Buffer {
    return streamFrame([this.kind === "channel" ? "subscribe" : "psubscribe", name, String(count)]);
  }

  private write(frame: Buffer): void {
    this.response.write(frame);
    if (this.response.writableLength > this.settings.maxBacklogBytes) {
      // The client reads slower than messages arrive: cut it off rather than buffer without bound.
      this.settings.onSlowConsumer();
      this.response.destroy();
      this.end();
    }
  }

  private releaseAll(): void {
    for (const release of this.releases.splice(0)) release();
  }
}
