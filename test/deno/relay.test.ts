/**
 * Every scenario list against the Deno entry (src/entry/deno.ts, the `deno serve` handler), served with
 * Deno.serve on a loopback socket and driven with Deno's fetch. redis-server and the REST proxy come from
 * test/helpers/stack.ts, which runs under Deno's Node compatibility. Run: `npx deno test --allow-all test/deno/`.
 */
import { TEST_JWT_SECRET } from "../helpers/constants.ts";
import { startTestStack } from "../helpers/stack.ts";
import { socketTarget } from "../node/runtimes/socket-target.ts";
import { allSuites } from "../node/runtimes/suites.ts";

// Typed through globalThis so tsc (without Deno's lib) checks this file too.
interface DenoServer {
  addr: { hostname: string; port: number };
  shutdown(): Promise<void>;
}
interface DenoApi {
  env: { set(name: string, value: string): void };
  serve(
    options: { hostname: string; port: number; onListen?: () => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): DenoServer;
  test(definition: {
    name: string;
    fn: () => Promise<void>;
    sanitizeOps?: boolean;
    sanitizeResources?: boolean;
  }): void;
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const stack = await startTestStack();
// Safety net when the last test is filtered out (`--filter`): stop() sends redis-server its SIGTERM synchronously.
globalThis.addEventListener("unload", () => {
  void stack.stop();
});
// The entry reads its config from Deno.env once, when it is imported.
Deno.env.set("UPSTASH_REDIS_REST_URL", stack.restUrl);
Deno.env.set("UPSTASH_REDIS_REST_TOKEN", stack.restToken);
Deno.env.set("RELAY_JWT_SECRET", TEST_JWT_SECRET);
Deno.env.set("RELAY_HEARTBEAT_MS", "1000");
const { default: handler } = (await import("../../src/entry/deno.ts")) as {
  default: { fetch(request: Request): Response | Promise<Response> };
};
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) =>
  handler.fetch(request),
);

const target = socketTarget({
  runtime: "deno",
  baseUrl: () => `http://127.0.0.1:${server.addr.port}`,
  upstashUrl: stack.restUrl,
  upstashToken: stack.restToken,
  hub: true,
});

// Streams, timers and the stack outlive single tests by design; the last test stops them.
const lenient = { sanitizeOps: false, sanitizeResources: false };
for (const [suite, scenarios] of Object.entries(allSuites)) {
  for (const scenario of scenarios) {
    Deno.test({ name: `deno: ${suite}: ${scenario.name}`, fn: () => scenario.run(target), ...lenient });
  }
}
Deno.test({
  name: "deno: stop the relay, the proxy and redis-server",
  async fn() {
    await server.shutdown();
    await stack.stop();
  },
  ...lenient,
});
