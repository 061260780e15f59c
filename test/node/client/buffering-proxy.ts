import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP reverse proxy that buffers whole responses before sending them, as nginx with `proxy_buffering on`
 * or a compressing CDN does. Short responses pass (late but complete); an SSE stream never gets through.
 */
export interface BufferingProxy {
  url: string;
  /** Requests seen, by path (without query). */
  readonly paths: string[];
  close(): Promise<void>;
}

export async function startBufferingProxy(target: string): Promise<BufferingProxy> {
  const paths: string[] = [];
  const open = new Set<AbortController>();
  const server: Server = createServer((request, response) => {
    void forward(request, response);
  });

  async function forward(request: IncomingMessage, response: ServerResponse) {
    const upstream = new AbortController();
    open.add(upstream);
    response.on("close", () => upstream.abort());
    const url = new URL(request.url ?? "/", target);
    paths.push(url.pathname);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    try {
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === "string" && name !== "host" && name !== "connection") headers.set(name, value);
      }
      const answer = await fetch(url, {
        method: request.method ?? "GET",
        headers,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
        signal: upstream.signal,
      });
      // Buffer everything: for an endless SSE stream this never finishes, which is the point.
      const body = Buffer.from(await answer.arrayBuffer());
      const outHeaders: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (name !== "content-length" && name !== "transfer-encoding" && name !== "content-encoding")
          outHeaders[name] = value;
      });
      response.writeHead(answer.status, outHeaders).end(body);
    } catch {
      if (!response.headersSent) response.writeHead(502).end();
      else response.destroy();
    } finally {
      open.delete(upstream);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    close() {
      for (const controller of open) controller.abort();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
