import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Redis } from "@upstash/redis";
import { Redis as TcpRedis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createProxy } from "../../../src/proxy/index.ts";
import { startRedisServer } from "../../helpers/redis-server.ts";
import { eventually } from "./proxy-fixtures.ts";

async function proxyConnections(direct: TcpRedis): Promise<number> {
  const list = (await direct.call("CLIENT", "LIST")) as string;
  return list.split("\n").filter((line) => line.includes("name=upstash-proxy")).length;
}

/** Reads a stream to its end; resolves with everything it carried. */
async function readToEnd(response: Response): Promise<string> {
  let text = "";
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) return text;
    text += chunk.value;
  }
}

describe("graceful shutdown", () => {
  it("close() ends open streams, lets an in-flight request finish and closes every Redis connection", async () => {
    const redis = await startRedisServer();
    const direct = new TcpRedis(redis.url);
    try {
      const proxy = createProxy({ redisUrl: redis.url, token: "t", allowBlocking: true, log: () => {} });
      const { url } = await proxy.listen();
      const client = new Redis({ url, token: "t", retry: false });
      await client.set("k", "v");
      const stream = await fetch(`${url}/subscribe/c`, {
        method: "POST",
        headers: { authorization: "Bearer t" },
        body: "[]",
      });
      const streamed = readToEnd(stream);
      const inFlight = fetch(url, {
        method: "POST",
        headers: { authorization: "Bearer t" },
        body: JSON.stringify(["blpop", "q", 1]),
      });
      await eventually(async () => expect(await proxyConnections(direct)).toBe(3)); // commands, subscriber, blocking
      await eventually(async () => expect(await direct.info("clients")).toMatch(/blocked_clients:1/));
      await proxy.close();
      expect(await streamed).toBe("data: subscribe,c,1\n\n");
      const answered = await inFlight;
      expect(answered.status).toBe(200);
      expect(await answered.json()).toEqual({ result: null });
      await expect(fetch(url)).rejects.toThrow();
      await eventually(async () => expect(await proxyConnections(direct)).toBe(0));
      await proxy.close(); // idempotent
    } finally {
      direct.disconnect();
      await redis.stop();
    }
  });
});

const MAIN = fileURLToPath(new URL("../../../src/proxy/main.ts", import.meta.url));

/** `npm run proxy` as a process on a free port; resolves once it printed its URL. */
async function spawnProxy(args: string[]) {
  const child = spawn(
    process.execPath,
    ["--experimental-strip-types", "--no-warnings", MAIN, "--listen", "127.0.0.1:0", ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = await eventually(() => {
    const match = /proxy listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
    expect(match, output).not.toBeNull();
    return (match as RegExpExecArray)[1] as string;
  }, 20_000);
  return { child, url, output: () => output };
}

describe("npm run proxy", () => {
  it("serves the client, and SIGTERM drains and exits 0", async () => {
    const redis = await startRedisServer();
    const { child, url, output: printed } = await spawnProxy(["--redis", redis.url, "--token", "T"]);
    try {
      const client = new Redis({ url, token: "T", retry: false });
      expect(await client.set("cli", { ok: true })).toBe("OK");
      expect(await client.get("cli")).toEqual({ ok: true });
      const stream = await fetch(`${url}/subscribe/x`, {
        method: "POST",
        headers: { authorization: "Bearer T" },
        body: "[]",
      });
      const streamed = readToEnd(stream);
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = await exited;
      expect(code, printed()).toBe(0);
      expect(await streamed).toBe("data: subscribe,x,1\n\n");
      expect(printed()).toContain("SIGTERM, draining");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await redis.stop();
    }
  });

  it("SIGTERM with open subscribe streams, a blocking command in flight and Redis frozen exits within --shutdown-grace-ms", async () => {
    const redis = await startRedisServer();
    const graceMs = 1500;
    const { child, url, output } = await spawnProxy([
      "--redis",
      redis.url,
      "--token",
      "T",
      "--allow-blocking",
      "--shutdown-grace-ms",
      String(graceMs),
    ]);
    try {
      const subscribe = (channel: string) =>
        fetch(`${url}/subscribe/${channel}`, {
          method: "POST",
          headers: { authorization: "Bearer T" },
          body: "[]",
        });
      const streams = (await Promise.all(["a", "b", "c"].map(subscribe))).map(readToEnd);
      const blocked = fetch(url, {
        method: "POST",
        headers: { authorization: "Bearer T" },
        body: JSON.stringify(["blpop", "q", 30]),
      });
      blocked.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 300));
      process.kill(redis.pid, "SIGSTOP"); // nothing from Redis answers any more, not even QUIT
      const exited = once(child, "exit");
      const signalledAt = Date.now();
      child.kill("SIGTERM");
      expect(await Promise.all(streams)).toEqual(
        ["a", "b", "c"].map((channel) => `data: subscribe,${channel},1\n\n`),
      );
      await exited;
      const took = Date.now() - signalledAt;
      expect(child.exitCode, output()).not.toBeNull();
      expect(took).toBeLessThan(graceMs + 4000);
      await expect(blocked).rejects.toThrow(); // cut at the grace deadline
    } finally {
      process.kill(redis.pid, "SIGCONT");
      if (child.exitCode === null) child.kill("SIGKILL");
      await redis.stop();
    }
  }, 30_000);

  it("exits 2 with a clear message on bad configuration", async () => {
    const child = spawn(
      process.execPath,
      ["--experimental-strip-types", "--no-warnings", MAIN, "--listen", "127.0.0.1:0"],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: process.env.PATH },
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, "exit");
    expect(code).toBe(2);
    expect(stderr).toMatch(/needs at least one token/);
  });
});
