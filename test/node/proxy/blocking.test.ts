import { Redis as TcpRedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type PrivateProxy, startPrivateProxy, unique } from "./proxy-fixtures.ts";

// --allow-blocking: blocking commands run on a capped pool of dedicated connections with a timeout.
let stack: PrivateProxy;
let direct: TcpRedis;
beforeAll(async () => {
  // A limit far above any wait in these tests, so a slow machine never turns a served command into a 504.
  stack = await startPrivateProxy({ token: "t", allowBlocking: { maxConnections: 2, timeoutMs: 60_000 } });
  direct = new TcpRedis(stack.redis.url);
});
afterAll(async () => {
  direct.disconnect();
  await stack.stop();
});

function post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${stack.url}${path}`, {
    method: "POST",
    headers: { authorization: "Bearer t" },
    body: JSON.stringify(body),
    signal,
  });
}

async function blockedClients(client = direct): Promise<number> {
  const info = await client.info("clients");
  return Number(/blocked_clients:(\d+)/.exec(info)?.[1]);
}

describe("blocking commands, opted in", () => {
  it("serves BLPOP on a dedicated connection while the shared one keeps answering", async () => {
    const queue = unique("queue");
    const waiting = post("/", ["blpop", queue, 5]);
    // The shared connection is not blocked: ordinary commands still answer while BLPOP waits.
    await eventually(async () => expect(await blockedClients()).toBe(1));
    expect(await (await post("/", ["ping"])).json()).toEqual({ result: "PONG" });
    expect(await (await post("/", ["rpush", queue, "job"])).json()).toEqual({ result: 1 });
    const response = await waiting;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ result: [queue, "job"] });
  });

  it("answers a Redis timeout normally (nil) and XREAD BLOCK too", async () => {
    expect(await (await post("/", ["brpop", unique("empty"), 0.1])).json()).toEqual({ result: null });
    const stream = unique("stream");
    expect(await (await post("/", ["xread", "BLOCK", 100, "STREAMS", stream, "$"])).json()).toEqual({
      result: null,
    });
  });

  it("refuses a blocking command when every dedicated connection is busy", async () => {
    const controllers = [new AbortController(), new AbortController()];
    const busy = controllers.map((controller) =>
      post("/", ["blpop", unique("busy"), 0], controller.signal).catch(() => null),
    );
    await eventually(async () => expect(await blockedClients()).toBe(2));
    const refused = await post("/", ["blpop", unique("third"), 1]);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({
      error: expect.stringMatching(/all 2 connections for blocking commands are busy/),
    });
    // A client that goes away releases its blocked connection.
    for (const controller of controllers) controller.abort();
    await Promise.all(busy);
    await eventually(async () => expect(await blockedClients()).toBe(0));
  });

  it("runs a blocking command inside a pipeline in order", async () => {
    const queue = unique("pipeq");
    const response = await post("/pipeline", [
      ["rpush", queue, "a"],
      ["blpop", queue, 1],
      ["llen", queue],
    ]);
    expect(await response.json()).toEqual([{ result: 1 }, { result: [queue, "a"] }, { result: 0 }]);
  });

  it("still refuses connection-state commands", async () => {
    const response = await post("/", ["watch", "k"]);
    expect(response.status).toBe(400);
  });
});

describe("blocking commands past the proxy's limit", () => {
  it("cuts off a command that blocks past the proxy's limit with a JSON 504, and frees the connection", async () => {
    const short = await startPrivateProxy({
      token: "t",
      allowBlocking: { maxConnections: 2, timeoutMs: 1000 },
    });
    const shortDirect = new TcpRedis(short.redis.url);
    try {
      const response = await fetch(short.url, {
        method: "POST",
        headers: { authorization: "Bearer t" },
        body: JSON.stringify(["blpop", unique("never"), 0]),
      });
      expect(response.status).toBe(504);
      expect(await response.json()).toEqual({
        error: expect.stringMatching(/'BLPOP' was still blocked after the proxy's limit of 1000 ms/),
      });
      await eventually(async () => expect(await blockedClients(shortDirect)).toBe(0));
    } finally {
      shortDirect.disconnect();
      await short.stop();
    }
  });
});
