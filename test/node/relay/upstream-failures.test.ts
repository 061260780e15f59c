import { createServer } from "node:http";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../../src/client/index.ts";
import { startNodeRelay } from "../../../src/entry/node.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { freePort } from "../../helpers/free-port.ts";
import { runCli } from "../cli/run-cli.ts";
import { token, unique } from "../client/fixture.ts";
import { eventually } from "../proxy/proxy-fixtures.ts";
import { type PrivateRelay, startPrivateRelay } from "./private-relay.ts";

/**
 * What the relay answers when Redis or the REST endpoint fails (docs/api.md, "Upstream failures"): never 500.
 * A frozen Redis (SIGSTOP, past the proxy's command timeout) may still run what it was sent: writes answer
 * 504 `outcome_unknown`, reads 503; a dead Redis or an unreachable endpoint ran nothing: 503
 * `redis_unavailable`. Both carry Retry-After. Private stack: freezing the shared Redis would stall every
 * other test. Every stopped process is continued in `finally`.
 */
const COMMAND_TIMEOUT_MS = 1_500;
/** Longer than the proxy's command timeout, so a request sent meanwhile times out before Redis resumes. */
const FREEZE_MS = COMMAND_TIMEOUT_MS + 2_500;

interface Problem {
  code: string;
  status: number;
  detail: string;
}

let relay: PrivateRelay;
let admin: string;
let direct: Redis;

beforeAll(async () => {
  relay = await startPrivateRelay({}, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
  admin = await token("admin");
  direct = new Redis(relay.stack.redisUrl);
});
afterAll(async () => {
  direct?.disconnect();
  await relay?.close();
});

function call(path: string, init: RequestInit = {}, base = relay.url): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${admin}`);
  return fetch(`${base}${path}`, { ...init, headers });
}
const publishInit = (data: unknown, key?: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) },
  body: JSON.stringify(data),
});

/** A Node relay whose REST endpoint is `restUrl` (nothing there, or a fault injector). */
function relayInFrontOf(restUrl: string) {
  return startNodeRelay({
    UPSTASH_REDIS_REST_URL: restUrl,
    UPSTASH_REDIS_REST_TOKEN: "t",
    RELAY_JWT_SECRET: TEST_JWT_SECRET,
    HOST: "127.0.0.1",
    PORT: "0",
  });
}

async function problemOf(response: Response): Promise<Problem & { retryAfter: string | null }> {
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  return { ...((await response.json()) as Problem), retryAfter: response.headers.get("retry-after") };
}

/** Runs `during` while redis-server is stopped (SIGSTOP) for FREEZE_MS; always continues it. */
async function whileFrozen<T>(during: () => Promise<T>): Promise<T> {
  const pid = relay.stack.redis.pid;
  process.kill(pid, "SIGSTOP");
  const thawed = new Promise<void>((resolve) =>
    setTimeout(() => {
      process.kill(pid, "SIGCONT");
      resolve();
    }, FREEZE_MS),
  );
  try {
    return await during();
  } finally {
    await thawed;
  }
}

async function history(channel: string): Promise<{ id: string; data: unknown }[]> {
  const response = await call(`/v1/channels/${channel}/messages?limit=100`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { messages: { id: string; data: unknown }[] }).messages;
}

describe("a primary that refuses writes while it lacks replicas (min-replicas-to-write)", () => {
  it("publish, batch publish and KV writes answer 503 redis_unavailable with Retry-After and write nothing", async () => {
    const channel = unique("noreplicas");
    await direct.config("SET", "min-replicas-to-write", "1");
    try {
      for (const [path, init] of [
        [`/v1/channels/${channel}/messages`, publishInit({ n: 1 })],
        ["/v1/publish", publishInit({ messages: [{ channel, data: 2 }] })],
        [`/v1/kv/${channel}`, { method: "PUT", headers: { "content-type": "text/plain" }, body: "v" }],
      ] as const) {
        const problem = await problemOf(await call(path, init));
        expect(problem, path).toMatchObject({ status: 503, code: "redis_unavailable", retryAfter: "1" });
        expect(problem.detail).toMatch(/NOREPLICAS/);
      }
      expect(await direct.exists(`relay:{${channel}}:log`, channel)).toBe(0);
    } finally {
      await direct.config("SET", "min-replicas-to-write", "0");
    }
    expect((await call(`/v1/channels/${channel}/messages`, publishInit({ n: 3 }))).status).toBe(201);
  });
});

describe("Redis frozen past the proxy's command timeout", () => {
  it("a publish answers 504 outcome_unknown (never 500); it was stored once; the keyed retry answers 200 with its id", async () => {
    const channel = unique("frozen");
    // Warm the script cache: a cold Redis would answer the frozen EVALSHA with NOSCRIPT and store nothing.
    expect((await call(`/v1/channels/${channel}/messages`, publishInit({ n: 0 }))).status).toBe(201);

    const [keyed, unkeyed] = await whileFrozen(() =>
      Promise.all([
        call(`/v1/channels/${channel}/messages`, publishInit({ n: 1 }, "order-1")),
        call(`/v1/channels/${channel}/messages`, publishInit({ n: 2 })),
      ]),
    );
    for (const response of [keyed, unkeyed]) {
      expect(response.status).toBe(504);
      const problem = await problemOf(response);
      expect(problem.code).toBe("outcome_unknown");
      expect(problem.detail).toMatch(/outcome is unknown/);
      expect(problem.detail).toMatch(/same Idempotency-Key is safe/);
      expect(problem.retryAfter).toMatch(/^\d+$/);
    }

    // Redis ran what it had been sent before the freeze ended: both messages are stored, once each.
    await eventually(async () => expect((await history(channel)).map((m) => m.data)).toHaveLength(3));
    const stored = await history(channel);
    expect(
      stored.map((m) => m.data).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    const retry = await call(`/v1/channels/${channel}/messages`, publishInit({ n: 1 }, "order-1"));
    expect(retry.status).toBe(200);
    const { id } = (await retry.json()) as { id: string };
    expect(id).toBe(stored.find((m) => JSON.stringify(m.data) === '{"n":1}')?.id);
    expect(await history(channel)).toHaveLength(3);
  }, 30_000);

  it("every route answers a classified problem: writes 504 outcome_unknown, reads and streams 503, all with Retry-After", async () => {
    const channel = unique("frozen-all");
    const key = unique("frozen-key");
    await call(`/v1/channels/${channel}/messages`, publishInit(0)); // warm the script cache
    await call(`/v1/kv/${key}`, { method: "PUT", headers: { "content-type": "text/plain" }, body: "v" });
    const requests: [string, () => Promise<Response>, number, string][] = [
      ["publish", () => call(`/v1/channels/${channel}/messages`, publishInit(1)), 504, "outcome_unknown"],
      [
        "batch publish",
        () => call("/v1/publish", publishInit({ messages: [{ channel, data: 2 }] })),
        504,
        "outcome_unknown",
      ],
      [
        "kv put",
        () => call(`/v1/kv/${key}`, { method: "PUT", headers: { "content-type": "text/plain" }, body: "w" }),
        504,
        "outcome_unknown",
      ],
      ["kv delete", () => call(`/v1/kv/${key}-other`, { method: "DELETE" }), 504, "outcome_unknown"],
      [
        "channel delete",
        () => call(`/v1/channels/${channel}-x`, { method: "DELETE" }),
        504,
        "outcome_unknown",
      ],
      ["kv get", () => call(`/v1/kv/${key}`), 503, "redis_unavailable"],
      ["kv list", () => call("/v1/kv?prefix=frozen"), 503, "redis_unavailable"],
      ["history", () => call(`/v1/channels/${channel}/messages`), 503, "redis_unavailable"],
      ["long-poll", () => call(`/v1/channels/${channel}/messages?wait=1`), 503, "redis_unavailable"],
      ["channel info", () => call(`/v1/channels/${channel}`), 503, "redis_unavailable"],
      ["sse start", () => call(`/v1/channels/${channel}/events`), 503, "redis_unavailable"],
      ["healthz", () => fetch(`${relay.url}/healthz`), 503, "redis_unavailable"],
    ];
    const responses = await whileFrozen(() => Promise.all(requests.map(([, request]) => request())));
    for (const [index, [label, , status, code]] of requests.entries()) {
      const response = responses[index] as Response;
      const problem = await problemOf(response);
      expect({ label, status: response.status, code: problem.code }).toEqual({ label, status, code });
      expect(problem.retryAfter, label).toMatch(/^\d+$/);
    }
  }, 30_000);
});

describe("the SDK across a freeze", () => {
  it("publish and publishMany, retried with their idempotency keys, end up exactly once in history", async () => {
    const channel = unique("sdk-frozen");
    const client = createClient({ url: relay.url, token: admin }); // default retries
    await client.publish(channel, "warm"); // the script cache, as in production
    const published = await whileFrozen(() =>
      Promise.all([
        ...[1, 2, 3].map((n) => client.publish(channel, { n })),
        client.publishMany([
          { channel, data: { n: 4 } },
          { channel, data: { n: 5 } },
        ]),
      ]),
    );
    const ids = published.flat().map((message) => message.id);
    const stored = await history(channel);
    expect(stored.map((m) => m.data)).toHaveLength(6);
    expect(new Set(stored.map((m) => JSON.stringify(m.data))).size).toBe(6);
    expect(stored.map((m) => m.id)).toEqual(expect.arrayContaining(ids));
  }, 30_000);

  it("relay publish retries with its key across the freeze: exit 0, the id printed, stored once", async () => {
    const channel = unique("cli-frozen");
    const env = { RELAY_URL: relay.url, RELAY_TOKEN: admin };
    expect((await runCli(["publish", channel, "warm"], { env })).code).toBe(0);
    const [keyed, fresh, once] = await whileFrozen(() =>
      Promise.all([
        runCli(["publish", channel, '{"n":1}', "--idempotency-key", "cli-1"], { env }),
        runCli(["publish", channel, '{"n":2}'], { env }),
        runCli(["publish", channel, '{"n":3}', "--retries", "0"], { env }),
      ]),
    );
    expect([keyed.code, fresh.code, keyed.stderr, fresh.stderr]).toEqual([0, 0, "", ""]);
    // Without retries the unknown outcome is the answer (the message did get stored, once).
    expect(once.code).not.toBe(0);
    expect(once.stderr).toMatch(/outcome_unknown/);
    await eventually(async () => expect(await history(channel)).toHaveLength(4));
    const stored = await history(channel);
    expect(stored.map((m) => JSON.stringify(m.data)).sort()).toEqual([
      '"warm"',
      '{"n":1}',
      '{"n":2}',
      '{"n":3}',
    ]);
    expect(stored.map((m) => m.id)).toEqual(
      expect.arrayContaining([JSON.parse(keyed.stdout).id, JSON.parse(fresh.stdout).id]),
    );
  }, 30_000);
});

describe("Redis down, or the REST endpoint unreachable: nothing ran", () => {
  it("answers 503 redis_unavailable with Retry-After for reads and writes while Redis is stopped", async () => {
    const channel = unique("down");
    const stopped = await startPrivateRelay({}, { readyWaitMs: 300 });
    try {
      await stopped.stack.redis.stop();
      const base = stopped.url;
      for (const [label, request] of [
        ["publish", () => call(`/v1/channels/${channel}/messages`, publishInit(1, "k"), base)],
        ["batch", () => call("/v1/publish", publishInit({ messages: [{ channel, data: 1 }] }), base)],
        ["history", () => call(`/v1/channels/${channel}/messages`, {}, base)],
        ["healthz", () => fetch(`${base}/healthz`)],
      ] as const) {
        const response = await request();
        const problem = await problemOf(response);
        expect({ label, status: response.status, code: problem.code }).toEqual({
          label,
          status: 503,
          code: "redis_unavailable",
        });
        expect(problem.retryAfter, label).toMatch(/^\d+$/);
      }
    } finally {
      await stopped.close();
    }
  }, 30_000);

  it("answers 503 redis_unavailable when nothing listens at the REST endpoint (fetch fails)", async () => {
    const channel = unique("no-endpoint");
    const port = await freePort();
    const orphan = await relayInFrontOf(`http://127.0.0.1:${port}`);
    try {
      for (const request of [
        () => call(`/v1/channels/${channel}/messages`, publishInit(1), orphan.url),
        () => call(`/v1/channels/${channel}/messages`, {}, orphan.url),
        () => call(`/v1/channels/${channel}/events`, {}, orphan.url),
      ]) {
        const response = await request();
        expect(response.status).toBe(503);
        const problem = await problemOf(response);
        expect(problem.code).toBe("redis_unavailable");
        expect(problem.retryAfter).toMatch(/^\d+$/);
      }
    } finally {
      await orphan.close();
    }
  });
});

describe("the REST endpoint drops the connection after reading the request", () => {
  it("the relay sends the publish once (no hidden retry) and answers 504 outcome_unknown", async () => {
    let requests = 0;
    // Fault injection, not a stand-in for the proxy: the request arrives, the answer never does.
    const dropper = createServer((request) => {
      requests++;
      request.resume();
      request.on("end", () => request.socket.destroy());
    });
    await new Promise<void>((resolve) => dropper.listen(0, "127.0.0.1", resolve));
    const { port } = dropper.address() as { port: number };
    const relayed = await relayInFrontOf(`http://127.0.0.1:${port}`);
    try {
      const response = await call(`/v1/channels/${unique("dropped")}/messages`, publishInit(1), relayed.url);
      expect(response.status).toBe(504);
      expect((await problemOf(response)).code).toBe("outcome_unknown");
      expect(requests).toBe(1);
    } finally {
      await relayed.close();
      dropper.closeAllConnections();
      await new Promise((resolve) => dropper.close(resolve));
    }
  });
});
