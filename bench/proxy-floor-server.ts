/**
 * The HTTP floor for the proxy benchmark: a minimal node:http server that reads the request and answers
 * one constant Upstash-shaped JSON (`{"result":"T0s="}`, base64 "OK", which the client decodes for GET and
 * SET alike). Nothing can answer an HTTP request on this machine much faster. Prints `{"url"}` once
 * listening; SIGTERM or the parent closing stdin stops it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const body = Buffer.from('{"result":"T0s="}');
const server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    response.end(body);
  });
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("close", stop);
process.stdin.resume();
