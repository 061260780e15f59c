import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * How a benchmark's helper server runs as a child process: it listens on a free loopback port, prints
 * `{"url"}` once listening (the parent reads that line), and stops on SIGTERM, SIGINT or the parent closing stdin.
 */
export function serveAsChild(server: Server): void {
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
}
