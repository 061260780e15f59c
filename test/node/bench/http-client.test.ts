import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpConnection } from "../../../bench/relay/http-client.ts";

/** A real node:http server: chunked and Content-Length answers, a close, a hold, and the sockets it saw. */
let server: Server;
let origin: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://x");
    if (url.pathname === "/chunked") {
      response.write("part one, ");
      setTimeout(() => response.end(`part two for ${request.headers.authorization}`), 5);
    } else if (url.pathname === "/close") {
      response.setHeader("Connection", "close");
      response.end("bye");
    } else if (url.pathname === "/hold") {
      setTimeout(() => response.end("late"), 10_000).unref();
    } else {
      response.statusCode = url.pathname === "/missing" ? 404 : 200;
      response.end(`${url.pathname}${url.search}`);
    }
  });
  server.on("connection", (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("HttpConnection (the long-poll loops' client)", () => {
  it("reads Content-Length and chunked answers one after another on one kept-alive socket", async () => {
    const connection = new HttpConnection(origin, { Authorization: "Bearer t" });
    const before = sockets.size;
    try {
      expect(await connection.get("/plain?after=1-0&wait=1")).toEqual({
        status: 200,
        text: "/plain?after=1-0&wait=1",
      });
      expect(await connection.get("/chunked")).toEqual({
        status: 200,
        text: "part one, part two for Bearer t",
      });
      expect(await connection.get("/missing")).toEqual({ status: 404, text: "/missing" });
      expect(sockets.size - before, "one socket for all three").toBe(1);
    } finally {
      connection.close();
    }
  });

  it("opens a new socket after Connection: close", async () => {
    const connection = new HttpConnection(origin);
    const before = sockets.size;
    try {
      expect(await connection.get("/close")).toEqual({ status: 200, text: "bye" });
      expect(await connection.get("/a")).toEqual({ status: 200, text: "/a" });
      expect(sockets.size - before).toBe(2);
    } finally {
      connection.close();
    }
  });

  it("resends once on a new socket when a kept-alive one closes before answering, but not on a fresh one", async () => {
    // Raw: each socket answers its first request and closes, answerless, on its second (a stale keep-alive);
    // a path starting /drop is never answered.
    let connections = 0;
    const raw = createNetServer((socket) => {
      connections++;
      let requests = 0;
      socket.on("data", (bytes) => {
        requests++;
        const path = bytes.toString("latin1").split(" ")[1] ?? "";
        if (requests > 1 || path.startsWith("/drop")) socket.destroy();
        else socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    const connection = new HttpConnection(`http://127.0.0.1:${(raw.address() as AddressInfo).port}`);
    try {
      expect(await connection.get("/1")).toEqual({ status: 200, text: "/1" });
      expect(await connection.get("/2")).toEqual({ status: 200, text: "/2" });
      expect(await connection.get("/3")).toEqual({ status: 200, text: "/3" });
      expect(connections).toBe(3);
      connection.close();
      await expect(connection.get("/drop")).rejects.toThrow(/closed the connection|ECONNRESET/);
      expect(connections).toBe(4);
    } finally {
      connection.close();
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it("rejects with the signal's reason when aborted, refuses a second request in flight, and recovers", async () => {
    const connection = new HttpConnection(origin);
    try {
      const controller = new AbortController();
      const held = connection.get("/hold", controller.signal);
      await expect(connection.get("/a")).rejects.toThrow(/never pipelines/);
      controller.abort(new Error("stop"));
      await expect(held).rejects.toThrow("stop");
      expect(await connection.get("/after")).toEqual({ status: 200, text: "/after" });
    } finally {
      connection.close();
    }
  });
});
