// Run by deno.test.ts under `deno run`: the SDK, unchanged, in Deno. Publishes, reads back and resumes a
// subscription, then prints one JSON line with what it saw. Args: <relay url> <token> <channel>.
import { createClient } from "../../../src/client/index.ts";

const [url, token, channel] = (globalThis as unknown as { Deno: { args: string[] } }).Deno.args as [
  string,
  string,
  string,
];
const relay = createClient({ url, token });
const first = await relay.publish(channel, { n: 1 });
await relay.publish(channel, "two");
await relay.kv.set(`${channel}-key`, { from: "deno" });
const received: unknown[] = [];
for await (const event of relay.subscribe(channel, { after: first.id })) {
  received.push(event.type === "message" ? event.data : event);
  break;
}
console.log(JSON.stringify({ received, stored: (await relay.kv.get(`${channel}-key`))?.value }));
