/**
 * Runs the local stack (`relay start`'s code: redis-server, the REST proxy in this process, the relay under
 * `wrangler dev`) in a process of its own, so the benchmark can read the proxy's memory apart from its clients.
 * Prints one JSON line (`StackAddress`) once the relay answers /healthz; SIGTERM stops everything.
 */
import { startLocalStack } from "../../src/cli/local-stack.ts";

export interface StackAddress {
  relayUrl: string;
  redisUrl: string;
  devToken: string;
  /** The wrangler process; workerd runs below it. */
  relayPid: number;
}

const stack = await startLocalStack({
  runtime: "workers",
  port: 0,
  // Every RELAY_* variable of the benchmark's environment reaches the relay, as with `npm start`.
  env: process.env,
  log: (line) => process.stderr.write(`${line}\n`),
});
const address: StackAddress = {
  relayUrl: stack.relayUrl,
  redisUrl: stack.redisUrl,
  devToken: stack.devToken,
  relayPid: stack.pids.at(-1) ?? 0,
};
process.stdout.write(`${JSON.stringify(address)}\n`);

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  stack.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on("SIGTERM", stop);
// Ctrl-C reaches this process too (same process group); wrangler runs in its own group and must be stopped here.
process.on("SIGINT", stop);
// If the benchmark dies without signalling, its end of our stdin closes: do not leave the stack running.
process.stdin.on("close", stop);
process.stdin.resume();
