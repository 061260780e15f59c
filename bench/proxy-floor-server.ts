/**
 * The HTTP floor for the proxy benchmark: a minimal node:http server that reads the request and answers
 * one constant Upstash-shaped JSON (`{"result":"T0s="}`, base64 "OK", which the client decodes for GET and
 * SET alike). Nothing can answer an HTTP request on this machine much faster. Prints `{"url"}` once
 * listening; SIGTERM or the parent closing stdin stops it.
 */
import { createServer } from "node:http";
import { serveAsChild } from "./child-server.ts";

const body = Buffer.from('{"result":"T0s="}');
const server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    response.end(body);
  });
});
serveAsChild(server);
