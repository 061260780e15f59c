/**
 * Runs the REST proxy in its own process so the benchmark can read its memory apart from the client side.
 * Environment: BENCH_REDIS_URL, BENCH_PROXY_TOKEN. Prints one JSON line `{"url"}` once listening; SIGTERM,
 * SIGINT or the parent closing our stdin close it.
 */
import { createProxy } from "../../src/proxy/index.ts";

const redisUrl = process.env.BENCH_REDIS_URL;
const token = process.env.BENCH_PROXY_TOKEN;
if (!redisUrl || !token) {
  console.error("proxy-child.ts needs BENCH_REDIS_URL and BENCH_PROXY_TOKEN");
  process.exit(2);
}
const proxy = createProxy({ redisUrl, token });
const { url } = await proxy.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`${JSON.stringify({ url })}\n`);

let closing = false;
function close() {
  if (closing) return;
  closing = true;
  proxy.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on("SIGTERM", close);
process.on("SIGINT", close);
process.stdin.on("close", close);
process.stdin.resume();
