import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { startTestStack, type TestStack } from "../../helpers/stack.ts";
import { eventually } from "../proxy/proxy-fixtures.ts";
import {
  openStream,
  type RelayProcess,
  type RelayProcessKind,
  spawnRelayProcess,
  tryConnect,
} from "./relay-process.ts";

/**
 * Graceful shutdown of a relay process (docs/sse.md#shutdown), on Node, `deno run --listen` and `deno serve`:
 * SIGTERM stops accepting, ends every SSE stream with a final `id:` + `retry:` frame, answers waiting long-polls
 * with their normal empty answer, lets in-flight requests finish and exits 0; what is still open at
 * RELAY_SHUTDOWN_MS is cut and the exit code is 1. Real processes, killed by PID.
 */
const SHUTDOWN_MS = 6000;
/** Streams and long-polls must end well before the deadline, which would cut them instead. */
const PROMPT_MS = 3000;
/** Margin for a loaded machine on top of the deadline. */
const EXIT_MARGIN_MS = 4000;
const KINDS: RelayProcessKind[] = ["node", "deno run", "deno serve"];

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function startRelay(
  kind: RelayProcessKind,
  settings: Record<string, string> = {},
): Promise<RelayProcess> {
  const relay = await spawnRelayProcess(kind, {
    UPSTASH_REDIS_REST_URL: stack.restUrl,
    UPSTASH_REDIS_REST_TOKEN: stack.restToken,
    RELAY_AUTH: "none",
    RELAY_SHUTDOWN_MS: String(SHUTDOWN_MS),
    ...settings,
  });
  onTestFinished(() => relay.kill());
  return relay;
}

async function publish(url: string, channel: string, data: unknown): Promise<string> {
  const response = await fetch(`${url}/v1/channels/${channel}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(data),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/**
 * A publish held in flight: Redis is frozen (SIGSTOP) so the relay waits on it until `release()`. (A publish whose
 * body is still uploading is no use on Deno 2.9: its server's shutdown() makes in-flight request bodies unreadable,
 * denoland/deno#36809.)
 */
async function publishInFlight(url: string, channel: string) {
  process.kill(stack.redis.pid, "SIGSTOP");
  let frozen = true;
  const release = () => {
    if (frozen) process.kill(stack.redis.pid, "SIGCONT");
    frozen = false;
  };
  onTestFinished(release);
  const response = fetch(`${url}/v1/channels/${channel}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ late: true }),
  });
  response.catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 300)); // it reached the relay, which waits on Redis
  return { response, release };
}

/** `promise`, or a failure naming `what` after `ms` (the old relay hung here: a clear message beats a test timeout). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function openProxyStreams(): Promise<number> {
  const metrics = await (await fetch(`${stack.restUrl}/metrics`)).text();
  return Number(/^upstash_proxy_open_streams (\d+)$/m.exec(metrics)?.[1]);
}

const FINAL_FRAME = /(?:^|\n\n)id: (\S+)\nretry: \d+\n\n$/;

describe.each(KINDS)("relay process (%s) on SIGTERM", (kind) => {
  it("ends every stream with id: + retry:, answers the long-poll, finishes the publish, refuses new connections, exits 0", async () => {
    const relay = await startRelay(kind);
    const channel = `shutdown-${randomBytes(4).toString("hex")}`;
    const firstId = await publish(relay.url, channel, "first");
    const streams = await Promise.all(
      [1, 2, 3].map(() => openStream(`${relay.url}/v1/channels/${channel}/events`)),
    );
    for (const stream of streams) await stream.until(/^id: \S+\n\n/m); // the position frame: live
    const position = /^id: (\S+)\n\n/m.exec(streams[0]?.text() ?? "")?.[1];
    const raw = await openStream(`${relay.url}/v1/events?channel=${channel}&raw=1`);
    const longPoll = fetch(`${relay.url}/v1/channels/${channel}/messages?after=${firstId}&wait=30`);
    // With the delivery hub (on by default) the 3 streams and the long-poll share one upstream; the raw stream is 1.
    await eventually(async () => expect(await openProxyStreams()).toBe(2));
    const late = await publishInFlight(relay.url, channel);

    const signalledAt = Date.now();
    relay.child.kill("SIGTERM");

    const [rawText, ...texts] = await within(
      Promise.all([raw, ...streams].map((stream) => stream.ended)),
      PROMPT_MS,
      "the streams did not end",
    );
    const endedAfter = Date.now() - signalledAt;
    for (const text of texts) {
      const final = FINAL_FRAME.exec(text);
      expect(final, `${text}\n--- relay output:\n${relay.output()}`).not.toBeNull();
      expect(final?.[1]).toBe(position);
    }
    expect(rawText).toBe("retry: 1000\n\n"); // live only: no position to resume from
    const answer = await within(longPoll, PROMPT_MS, "the long-poll did not answer");
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ messages: [], gap: false });
    expect(Date.now() - signalledAt).toBeLessThan(PROMPT_MS);
    expect(endedAfter).toBeLessThan(PROMPT_MS);

    expect(await tryConnect(relay.port)).toBe("ECONNREFUSED");
    expect(relay.child.exitCode, "the relay waits for the in-flight publish").toBeNull();

    late.release();
    const published = await late.response;
    expect(published.status).toBe(201);
    const lateId = ((await published.json()) as { id: string }).id;

    const exit = await within(relay.exited, SHUTDOWN_MS + EXIT_MARGIN_MS, "the relay did not exit");
    expect(exit, relay.output()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(SHUTDOWN_MS + EXIT_MARGIN_MS);

    // A client resuming from the final frame's id on a restarted relay gets what was published meanwhile.
    const restarted = await startRelay(kind);
    const resumed = await openStream(`${restarted.url}/v1/channels/${channel}/events`, {
      "last-event-id": position as string,
    });
    onTestFinished(() => resumed.cancel());
    await resumed.until(/"late":true/);
    expect(resumed.text()).toContain(`"id":"${lateId}"`);
    expect(resumed.text()).not.toContain('"first"');
  }, 90_000);

  it("cuts a request still open at RELAY_SHUTDOWN_MS and exits 1", async () => {
    const relay = await startRelay(kind, { RELAY_SHUTDOWN_MS: "1500" });
    const stuck = await publishInFlight(relay.url, `stuck-${randomBytes(4).toString("hex")}`);
    const signalledAt = Date.now();
    relay.child.kill("SIGTERM");
    const exit = await relay.exited;
    const took = Date.now() - signalledAt;
    expect(exit, relay.output()).toEqual({ code: 1, signal: null });
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(1500 + EXIT_MARGIN_MS);
    await expect(stuck.response).rejects.toThrow();
    stuck.release();
  }, 60_000);
});
