/**
 * Runs the REST proxy in its own process so the benchmark can read its memory apart from the client side.
 * Usage: node bench/relay/proxy-child.ts <redis-url> <token>. Prints one JSON line `{"url"}` once listening;
 * SIGTERM closes it.
 */
import { createProxy } from "../../src/proxy/index.ts";

const [redisUrl, token] = process.argv.slice(2);
if (!redisUrl || !token) {
  console.error("usage: proxy-child.ts <redis-url> <token>");
  process.exit(2);
}
const proxy = createProxy({ redisUrl, token });
const { url } = await proxy.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`${JSON.stringify({ url })}\n`);

process.once("SIGTERM", () => {
  proxy.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
