import type { Server } from "node:http";
import { connect, type Socket } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pause, until } from "../../../test/helpers/until.ts";
import type { RelayEnv } from "../../relay/context.ts";
import type { EventStream } from "../../relay/sse/event-stream.ts";
import { socketEventStreams } from "./socket-event-stream.ts";

/**
 * The Node SSE writer over real sockets: @hono/node-server in front, a raw TCP client that can stop reading for
 * real (its kernel buffers fill, the server's writes meet backpressure).
 */
describe("socketEventStreams", () => {
  const sse = socketEventStreams();
  const streams: EventStream[] = [];
  const app = new Hono<RelayEnv>();
  // Like the relay's CORS and Redis-count middleware: headers added once the handler has answered.
  app.use(async (c, next) => {
    await next();
    c.res.headers.set("x-after-handler", "yes");
  });
  app.use("/replaced", async (c, next) => {
    await next();
    c.res = c.json({ replaced: true }, 500);
  });
  app.get("/plain", (c) => c.text("plain"));
  app.get("*", (c) => {
    const stream = sse.eventStreams(c);
    streams.push(stream);
    void stream.write("data: early\n\n"); // written before the head can go out
    return c.newResponse(stream.body, 200, { "content-type": "text/event-stream" });
  });
  let server: Server;
  let port = 0;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: sse.fetch(app.fetch), port: 0, hostname: "127.0.0.1" }, (info) => {
        port = info.port;
        resolve();
      }) as Server;
    });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A raw HTTP/1.1 GET; `received()` is everything read so far. */
  async function open(path: string) {
    const socket = connect(port, "127.0.0.1");
    sockets.push(socket);
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("error", () => undefined); // a cut connection: what the test looks at is `closed`
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const before = streams.length;
    await until(() => received.includes("\r\n\r\n"));
    return { socket, closed, received: () => received, stream: streams[before] };
  }

  it("sends the final head (middleware headers included), then what was written before it, then each write", async () => {
    const client = await open("/events");
    await until(() => client.received().includes("data: early"));
    const head = client.received().split("\r\n\r\n")[0] ?? "";
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/\r\ncontent-type: text\/event-stream\r\n/i);
    expect(head).toMatch(/\r\nx-after-handler: yes\r\n/i);
    expect(client.stream?.waiting).toBe(true);
    expect(client.stream?.write("data: now\n\n")).toBeUndefined();
    await until(() => client.received().includes("data: now"));
    client.stream?.close();
    await until(() => client.received().endsWith("\r\n0\r\n\r\n")); // the last chunk: the body ended
    expect(client.received()).toMatch(/data: early\n\n[\s\S]*data: now\n\n[\s\S]*\r\n0\r\n\r\n$/);
  });

  it("makes a writer wait while the client does not read, and lets it go on once it reads again", async () => {
    const client = await open("/events");
    await until(() => client.received().includes("data: early"));
    client.socket.pause();
    const { pending } = await stuckWrite(client.stream);
    expect(client.stream?.waiting).toBe(false);
    let resumed = false;
    void pending.then(() => {
      resumed = true;
    });
    client.socket.resume();
    await until(() => resumed);
    client.stream?.close();
  });

  it("tells the session when the client goes away", async () => {
    const client = await open("/events");
    let told = false;
    client.stream?.onAbort(() => {
      told = true;
    });
    client.socket.destroy();
    await until(() => told);
    expect(client.stream?.aborted).toBe(true);
    expect(client.stream?.write("data: late\n\n")).toBeUndefined(); // ignored, nothing thrown
  });

  it("cuts a client that stopped reading when the session gives up on it (nothing held for it)", async () => {
    const client = await open("/events");
    client.socket.pause();
    const { pending } = await stuckWrite(client.stream);
    client.stream?.abort();
    await pending; // the stuck writer is released
    expect(client.stream?.aborted).toBe(true);
    // The connection was cut, not ended: reading again, the client meets the cut before any end of the body.
    client.socket.resume();
    await client.closed;
    expect(client.received().endsWith("\r\n0\r\n\r\n")).toBe(false);
  });

  it("ends the stream when a middleware replaces the answer, and sends the replacement", async () => {
    const client = await open("/replaced");
    expect(client.received()).toMatch(/^HTTP\/1\.1 500 /);
    await until(() => client.received().includes('{"replaced":true}'));
    expect(client.stream?.aborted).toBe(true);
  });

  it("leaves every other answer to @hono/node-server", async () => {
    const response = await fetch(`http://127.0.0.1:${port}/plain`);
    expect(await response.text()).toBe("plain");
    expect(response.headers.get("x-after-handler")).toBe("yes");
  });
});

/**
 * Writes to a stream whose client stopped reading until a write stays pending. Loopback kernel buffers take tens
 * of MB first (a write over the high-water mark waits only until the kernel took it), so this writes 1 MiB frames
 * one after another, each once the last was taken, until one is not taken within 200 ms.
 */
async function stuckWrite(stream: EventStream | undefined): Promise<{ pending: Promise<void> }> {
  const frame = `data: ${"x".repeat(1024 * 1024)}\n\n`;
  for (let i = 0; i < 1000; i++) {
    const pending = stream?.write(frame);
    if (pending === undefined) continue;
    const taken = await Promise.race([pending.then(() => true), pause(200).then(() => false)]);
    // Wrapped: an async function returning the promise itself would wait for it.
    if (!taken) return { pending };
  }
  throw new Error("no write ever stayed pending");
}
