/**
 * The fan-out floor of Deno: the least code Deno.serve needs to fan a POSTed body out to held SSE streams (no
 * Redis, no proxy, no auth, no parsing). Same routes as ./node.ts. Run with `deno run --allow-net deno.ts`;
 * prints `{"url"}` once listening and stops on SIGTERM.
 */
interface DenoServe {
  serve(
    options: { hostname: string; port: number; onListen(address: { port: number }): void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
}
// Reached through globalThis so the file also type-checks under tsc (no Deno lib there).
const deno = (globalThis as unknown as { Deno: DenoServe }).Deno;

const encoder = new TextEncoder();
const held = new Set<ReadableStreamDefaultController<Uint8Array>>();

deno.serve(
  {
    hostname: "127.0.0.1",
    port: 0,
    onListen({ port }) {
      console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
    },
  },
  async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method === "GET" && path === "/events") {
      let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          stream = controller;
          held.add(controller);
          controller.enqueue(encoder.encode(": open\n\n"));
        },
        cancel() {
          if (stream) held.delete(stream);
        },
      });
      return new Response(body, {
        headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
      });
    }
    if (request.method === "POST" && path === "/publish") {
      const frame = encoder.encode(`data: ${await request.text()}\n\n`);
      for (const stream of held) stream.enqueue(frame);
      return new Response(null, { status: 204 });
    }
    return new Response("ok", { status: path === "/ready" ? 200 : 404 });
  },
);
