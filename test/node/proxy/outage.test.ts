import { Redis as TcpRedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer } from "../../helpers/redis-server.ts";
import { eventually, type PrivateProxy, startPrivateProxy } from "./proxy-fixtures.ts";

// Redis goes away and comes back: JSON errors meanwhile (never a hang or an empty body), then recovery,
// with open subscribe streams subscribed again.
let stack: PrivateProxy;
beforeAll(async () => {
  stack = await startPrivateProxy({
    token: "t",
    readyWaitMs: 300,
    maxReconnectDelayMs: 200,
    commandTimeoutMs: 3000,
  });
});
afterAll(() => stack.stop());

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${stack.url}${path}`, {
    method: "POST",
    headers: { authorization: "Bearer t" },
    body: JSON.stringify(body),
  });
}

async function streamText(path: string) {
  const response = await fetch(`${stack.url}${path}`, {
    method: "POST",
    headers: { authorization: "Bearer t" },
    body: "[]",
  });
  let text = "";
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  const done = (async () => {
    for (;;) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) return;
      text += chunk.value;
    }
  })().catch(() => {});
  return { response, text: () => text, done, cancel: () => reader?.cancel() };
}

describe("Redis down and back up", () => {
  it("answers JSON 503 while Redis is down, recovers, and restores open subscriptions", async () => {
    const stream = await streamText("/subscribe/news");
    await eventually(() => expect(stream.text()).toBe("data: subscribe,news,1\n\n"));

    await stack.redis.stop();
    const started = Date.now();
    for (const [path, body] of [
      ["/", ["set", "k", "v"]],
      ["/pipeline", [["get", "k"]]],
      ["/multi-exec", [["get", "k"]]],
    ] as const) {
      const response = await post(path, body);
      expect(response.status, path).toBe(503);
      expect(response.headers.get("content-type")).toBe("application/json");
      expect(response.headers.get("retry-after")).toBe("1");
      expect(((await response.json()) as { error: string }).error).toMatch(
        /Redis is unavailable|Redis did not answer/,
      );
    }
    expect(Date.now() - started).toBeLessThan(20_000); // fails fast, not after minutes of retries
    const newStream = await post("/subscribe/other", []);
    expect(newStream.status).toBe(503);
    expect(await newStream.json()).toEqual({ error: expect.stringMatching(/Redis/) });
    const health = await fetch(`${stack.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ ok: false });
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(metrics).toMatch(/upstash_proxy_redis_up\{redis="[^"]+",role="commands"\} 0/);

    // Same port, fresh (empty) Redis.
    const revived = await startRedisServer({ port: stack.redis.port });
    stack.redis = revived;
    await eventually(
      async () => expect(await (await post("/", ["set", "k", "back"])).json()).toEqual({ result: "OK" }),
      20_000,
    );
    expect(await (await post("/", ["get", "k"])).json()).toEqual({ result: "back" });

    // The open stream is subscribed again (and says so), then gets new messages.
    await eventually(
      () => expect(stream.text()).toBe("data: subscribe,news,1\n\ndata: subscribe,news,1\n\n"),
      20_000,
    );
    const direct = new TcpRedis(revived.url);
    expect(await direct.publish("news", "after restart")).toBe(1);
    await eventually(() => expect(stream.text()).toContain("data: message,news,after restart\n\n"));
    direct.disconnect();
    await stream.cancel();
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
  }, 90_000);

  it("gives up on a command Redis does not answer in time, with a JSON 504 saying it may have run", async () => {
    const direct = new TcpRedis(stack.redis.url);
    await direct.call("CLIENT", "PAUSE", "20000", "ALL"); // far past the 3 s command timeout; unpaused below
    const response = await post("/", ["get", "k"]);
    // Sent and unanswered: 504, not the 503 of a Redis that is away (the command may still run).
    expect(response.status).toBe(504);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(((await response.json()) as { error: string }).error).toMatch(
      /^Redis did not answer, the command may have run: Command timed out/,
    );
    await direct.call("CLIENT", "UNPAUSE");
    await eventually(async () => expect((await post("/", ["ping"])).status).toBe(200));
    direct.disconnect();
  });
});
