/**
 * The fan-out floor of Workers: a Worker that hands every request to one Durable Object, which holds the event
 * streams and fans a POSTed body out to them (no Redis, no auth, no parsing). Same routes as ../node.ts. Served by
 * `wrangler dev` beside the relay: the platform's own limit for a Durable Object hub.
 */
import { DurableObject } from "cloudflare:workers";

export class FanoutFloor extends DurableObject {
  held = new Set();
  encoder = new TextEncoder();

  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (request.method === "GET" && path === "/events") {
      const { readable, writable } = new TransformStream();
      const writer = writable.getWriter();
      this.held.add(writer);
      writer.write(this.encoder.encode(": open\n\n")).catch(() => this.held.delete(writer));
      return new Response(readable, {
        headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
      });
    }
    if (request.method === "POST" && path === "/publish") {
      const frame = this.encoder.encode(`data: ${await request.text()}\n\n`);
      // A write fails once its client is gone: that is when the stream is let go.
      for (const writer of this.held) writer.write(frame).catch(() => this.held.delete(writer));
      return new Response(null, { status: 204 });
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  fetch(request, env) {
    if (new URL(request.url).pathname === "/ready") return new Response("ok");
    return env.FLOOR.get(env.FLOOR.idFromName("floor")).fetch(request);
  },
};
