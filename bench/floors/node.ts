/**
 * The fan-out floor of Node: the least code node:http needs to fan a POSTed body out to held SSE streams. No
 * Redis, no proxy, no auth, no parsing. `GET /events` holds an event stream, `POST /publish` writes
 * `data: <body>` to every held one, `GET /ready` answers a constant. Prints `{"url"}` once listening; SIGTERM or
 * the parent closing stdin stops it. The relay benchmark's targets are ratios to what this reaches.
 */
import { createServer, type ServerResponse } from "node:http";
import { serveAsChild } from "../child-server.ts";

const held = new Set<ServerResponse>();

const server = createServer((request, response) => {
  if (request.method === "GET" && request.url === "/events") {
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
    response.write(": open\n\n");
    held.add(response);
    request.on("close", () => held.delete(response));
    return;
  }
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    if (request.method === "POST" && request.url === "/publish") {
      const frame = Buffer.from(`data: ${Buffer.concat(chunks).toString()}\n\n`);
      for (const stream of held) stream.write(frame);
      response.writeHead(204).end();
      return;
    }
    response.writeHead(request.url === "/ready" ? 200 : 404, { "content-type": "text/plain" }).end("ok");
  });
});
serveAsChild(server);
