import { createConnection, createServer, type Server, type Socket } from "node:net";

/**
 * A loopback TCP pass-through in front of the relay that a test can cut and restore: cutting destroys every
 * open connection (the page's SSE stream breaks mid-response, as on a network drop) and resets new ones until
 * restored. It works below HTTP, so the browser sees a real broken connection, not a polite close.
 */
export interface CuttableLink {
  /** http://127.0.0.1:<port>: the relay as seen through the link. */
  url: string;
  /** Connections accepted and passed through so far. */
  readonly connections: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableLink(target: { host: string; port: number }): Promise<CuttableLink> {
  const open = new Set<Socket>();
  let isCut = false;
  let connections = 0;
  const server: Server = createServer((client) => {
    if (isCut) {
      client.resetAndDestroy();
      return;
    }
    connections++;
    const upstream = createConnection(target);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      for (const socket of [client, upstream]) {
        open.delete(socket);
        socket.destroy();
      }
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("cuttable link: no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    get connections() {
      return connections;
    },
    cut() {
      isCut = true;
      // A reset, not a FIN: the browser must see the connection fail, as it does when a network drops.
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    restore() {
      isCut = false;
    },
    close() {
      for (const socket of open) socket.destroy();
      open.clear();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
