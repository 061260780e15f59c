/**
 * The fault suite (docs/sse.md, "What a client sees under faults"): 20 SSE subscribers and 5 long-poll loops on
 * one channel while a publisher sends sequence-numbered messages at about 50/s, and redis-server, the REST proxy
 * or the relay fails and recovers. Per subscriber: every acknowledged message arrives exactly once in stream-id
 * order, unless a loss was signalled (`event: reset`, `gap: true`) after it was acknowledged; every subscriber
 * catches up within a bound (a stream sitting silent with heartbeats while history holds its messages would not);
 * publishes answer 200/201, 503 or 504 (or no answer while the relay is down), never 500; afterwards the proxy
 * holds no stream and no process is left.
 *
 * Runs the relay on Node and on Deno (`deno run`), each as its own process, and the Worker under `wrangler dev`
 * (faults (a)-(e); why not (f): see its describe block). Loopback only; every process is stopped by its PID.
 */
import { describe, expect, it } from "vitest";
import { pause, within } from "../../helpers/until.ts";
import { token, unique } from "../client/fixture.ts";
import { type Delivery, missingAcks, verdict } from "./ledger.ts";
import { startLongPoller } from "./long-poller.ts";
import { startPublisher } from "./publisher.ts";
import { type FaultRuntime, type FaultStack, isAlive, startFaultStack } from "./stack.ts";
import { startSubscriber } from "./subscriber.ts";

const SSE_SUBSCRIBERS = 20;
const LONG_POLLERS = 5;
const PUBLISH_BEFORE_MS = 3_000;
const PUBLISH_AFTER_MS = 3_000;
/** After the last publish every subscriber must have everything it is owed within this bound. */
const CATCH_UP_MS = 10_000;
/**
 * Once the clients are gone the proxy must hold no stream within: the hub's linger (an idle upstream subscription
 * stays 2 s) plus margin. On Workers add the long-pollers' wait (5 s): workerd tells the channel's Durable Object
 * that a waiting client left only when the wait ends, as it writes nothing before (docs/sse.md).
 */
const streamsClosedMs = (kind: FaultRuntime) => (kind === "workers" ? 11_000 : 6_000);
const FREEZE_MS = 10_000;

interface Fault {
  name: string;
  aof?: boolean;
  /**
   * Loss signals every subscriber must get ("every": Redis lost the channel's history, so every cursor handed out
   * before is from a lost epoch) or none may get ("none": nothing was lost, so a reset would be a false alarm).
   */
  lossSignals: "every" | "none";
  /** Injects the fault and recovers; resolves once the failed part runs again. */
  inject(stack: FaultStack): Promise<unknown>;
  timeoutMs: number;
}

const FAULTS: Fault[] = [
  {
    name: "(a) Redis restarts without persistence",
    lossSignals: "every",
    inject: (stack) => stack.restartRedis(1_000),
    timeoutMs: 60_000,
  },
  {
    name: "(b) Redis restarts with AOF (appendfsync always)",
    lossSignals: "none",
    aof: true,
    inject: (stack) => stack.restartRedis(1_000),
    timeoutMs: 60_000,
  },
  {
    name: "(c) Redis frozen (SIGSTOP) for 10 s",
    lossSignals: "none",
    async inject(stack) {
      const pid = stack.redisPid();
      process.kill(pid, "SIGSTOP");
      try {
        await pause(FREEZE_MS);
      } finally {
        process.kill(pid, "SIGCONT");
      }
    },
    timeoutMs: 75_000,
  },
  {
    name: "(d) proxy SIGKILL, restarted on the same port after 1 s",
    lossSignals: "none",
    inject: (stack) => stack.restartProxy("SIGKILL", 1_000),
    timeoutMs: 60_000,
  },
  {
    name: "(e) relay SIGKILL, restarted on the same port",
    lossSignals: "none",
    inject: (stack) => stack.restartRelay("SIGKILL"),
    timeoutMs: 60_000,
  },
  {
    name: "(f) relay SIGTERM (graceful), restarted on the same port",
    lossSignals: "none",
    async inject(stack) {
      const exit = await stack.restartRelay("SIGTERM");
      // docs/sse.md#shutdown: streams end, long-polls answer, then the process exits 0 (1 only when the
      // RELAY_SHUTDOWN_MS deadline had to cut what was still open).
      expect(exit.code, `the drained relay's exit after ${exit.tookMs} ms:\n${exit.output}`).toBe(0);
    },
    timeoutMs: 60_000,
  },
];

const ALLOWED_PUBLISH = new Set<number | string>([200, 201, 503, 504, "network"]);
const ALLOWED_READ = new Set<number | string>([200, 503, "network"]);

async function runScenario(kind: FaultRuntime, fault: Fault) {
  const admin = await token("admin");
  const stack = await startFaultStack({ relay: kind, aof: fault.aof });
  try {
    await runAgainst(stack, kind, fault, admin);
  } finally {
    // Also when an assertion failed above: no process of the scenario may outlive it.
    await stack.stop();
  }
  expect(stack.pids().filter(isAlive), "processes left").toEqual([]);
}

async function runAgainst(stack: FaultStack, kind: FaultRuntime, fault: Fault, admin: string) {
  const channelUrl = `${stack.relayUrl}/v1/channels/${unique("faults")}`;
  const subscribers = Array.from({ length: SSE_SUBSCRIBERS }, () =>
    startSubscriber(`${channelUrl}/events`, admin),
  );
  const pollers = Array.from({ length: LONG_POLLERS }, () => startLongPoller(channelUrl, admin));
  try {
    const connected = await within(
      () =>
        subscribers.every((s) => s.connects.includes(200)) && pollers.every((p) => p.answers.includes(200)),
      15_000,
    );
    expect(connected, "every subscriber connected before publishing").toBe(true);
    const publisher = startPublisher({ url: `${channelUrl}/messages`, token: admin });
    await pause(PUBLISH_BEFORE_MS);
    const faultAt = Date.now();
    await fault.inject(stack);
    const recoveredAt = Date.now();
    await pause(PUBLISH_AFTER_MS);
    const log = await publisher.stop();
    const stoppedAt = Date.now();

    const records: Array<{ name: string; deliveries: Delivery[] }> = [
      ...subscribers.map((s, i) => ({ name: `sse ${i}`, deliveries: s.deliveries })),
      ...pollers.map((p, i) => ({ name: `long-poll ${i}`, deliveries: p.deliveries })),
    ];
    const caughtUp = await within(
      () => records.every((r) => missingAcks(log, r.deliveries).length === 0),
      CATCH_UP_MS,
    );
    const catchUpMs = Date.now() - stoppedAt;

    const firstEnds = subscribers.map((s) => s.endedAt.find((at) => at >= faultAt));
    console.log(
      `[faults] ${kind} ${fault.name}: ${log.acks.length} acknowledged of ${log.attempted.size}, ` +
        `publish outcomes ${JSON.stringify(Object.fromEntries(publisher.outcomes))}, ` +
        `fault lasted ${recoveredAt - faultAt} ms, SSE streams ended after the fault in ` +
        `${firstEnds.filter((at) => at !== undefined).length}/${SSE_SUBSCRIBERS} ` +
        `(latest ${Math.max(0, ...firstEnds.map((at) => (at ?? faultAt) - faultAt))} ms after it), ` +
        `loss signals in ${records.filter((r) => r.deliveries.some((d) => d.kind === "loss")).length}/${records.length} subscribers, caught up ${caughtUp} in ${catchUpMs} ms`,
    );

    const problems = records.flatMap((r) => verdict(log, r.deliveries).map((p) => `${r.name}: ${p}`));
    expect(problems.slice(0, 40), `${problems.length} problems`).toEqual([]);
    expect(caughtUp, "every subscriber caught up").toBe(true);
    const signalled = records.filter((r) => r.deliveries.some((d) => d.kind === "loss")).map((r) => r.name);
    expect(signalled, "subscribers told of a loss").toEqual(
      fault.lossSignals === "every" ? records.map((r) => r.name) : [],
    );
    expect(
      log.acks.some((ack) => ack.ackedAt < faultAt),
      "messages were acknowledged before the fault (it hit live traffic)",
    ).toBe(true);
    expect(
      log.acks.some((ack) => ack.ackedAt > recoveredAt),
      "publishing recovered after the fault",
    ).toBe(true);
    expect([...publisher.outcomes.keys()].filter((o) => !ALLOWED_PUBLISH.has(o))).toEqual([]);
    const reads = [...subscribers.flatMap((s) => s.connects), ...pollers.flatMap((p) => p.answers)];
    expect([...new Set(reads)].filter((o) => !ALLOWED_READ.has(o))).toEqual([]);
  } finally {
    for (const subscriber of subscribers) subscriber.close();
    await Promise.all(pollers.map((poller) => poller.close()));
  }
  const closed = await within(async () => (await stack.proxy.openStreams()) === 0, streamsClosedMs(kind));
  expect(closed, `proxy open streams: ${await stack.proxy.openStreams()}`).toBe(true);
}

describe.each(["node", "deno run"] as const)("faults on the %s relay", (kind) => {
  for (const fault of FAULTS) {
    it(fault.name, () => runScenario(kind, fault), fault.timeoutMs);
  }
});

/**
 * Workers under `wrangler dev` (local mode): (a)-(d) act on Redis and the proxy, exactly as on Node and Deno.
 * (e) kills wrangler dev and its workerd processes and starts a new `wrangler dev` on the same port (the nearest
 * thing to a crashed isolate that a test can cause; in production Cloudflare restarts isolates itself).
 * (f) is not injected: a Worker gets no SIGTERM (the platform drains deployments itself, docs/sse.md#shutdown),
 * and SIGTERM to wrangler dev only tests wrangler.
 */
describe("faults on the workers relay (wrangler dev)", () => {
  for (const fault of FAULTS.filter((f) => !f.name.startsWith("(f)"))) {
    it(fault.name, () => runScenario("workers", fault), fault.timeoutMs + 60_000);
  }
});
