// Run by abort-after-gc.test.ts in a child process with the garbage collector exposed (`node --expose-gc`,
// `deno run --v8-flags=--expose-gc`): plain JavaScript so Node 20, Node 22 and Deno all run it unchanged.
// Args: <SDK module URL (the source or a built client.js)> <relay url> <token> <channel> <sse|long-poll>.
// Talks to the test over lines: prints {"state":"ready"} once the subscription is open and a GC has run, then
// on "abort" from stdin forces another GC, aborts the signal and prints {"ended":bool,"ms":n}; it exits when
// stdin closes, so the test decides how long its connection may linger.
import process from "node:process";
import { createInterface } from "node:readline";

const [sdkUrl, url, token, channel, transport] = process.argv.slice(2);
const gc = globalThis.gc;
if (typeof gc !== "function") throw new Error("run with the garbage collector exposed (--expose-gc)");
const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Several collections with turns of the event loop between them, so weak links are really cleared. */
async function collect() {
  for (let round = 0; round < 4; round++) {
    gc();
    await delay(25);
  }
}

const { createClient } = await import(sdkUrl);
const stop = new AbortController();
let opened;
const open = new Promise((resolve) => {
  opened = resolve;
});
const events = createClient({ url, token }).subscribe(channel, {
  signal: stop.signal,
  transport,
  onStatus: (status) => {
    if (status.state === "open" || status.state === "long-poll") opened();
  },
});
let endedAt;
const ended = (async () => {
  for await (const event of events) say({ event });
  endedAt = performance.now();
})();
ended.catch((error) => say({ error: String(error) }));

await open;
// Long-poll reports its state before its first request: give that request time to reach the relay.
await delay(500);
await collect();
say({ state: "ready" });

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line !== "abort") continue;
  await collect();
  const abortedAt = performance.now();
  stop.abort();
  const outcome = await Promise.race([ended.then(() => true), delay(5000).then(() => false)]);
  say({ ended: outcome, ms: outcome ? Math.round(endedAt - abortedAt) : null });
}
process.exit(0);
