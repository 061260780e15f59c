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

describe("npm run proxy", () => {
  it("serves the client, and SIGTERM drains and exits 0", async () => {
    const redis = await startRedisServer();
    const main = fileURLToPath(new URL("../../../src/proxy/main.ts", import.meta.url));
    const child = spawn(
      process.execPath,
      [
        "--experimental-strip-types",
        "--no-warnings",
        main,
        "--listen",
        "127.0.0.1:0",
        "--redis",
        redis.url,
        "--token",
        "T",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
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
      expect(code, output).toBe(0);
      expect(await streamed).toBe("data: subscribe,x,1\n\n");
      expect(output).toContain("SIGTERM, draining");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await redis.stop();
    }
  });

  it("exits 2 with a clear message on bad configuration", async () => {
    const main = fileURLToPath(new URL("../../../src/proxy/main.ts", import.meta.url));
    const child = spawn(
      process.execPath,
      ["--experimental-strip-types", "--no-warnings", main, "--listen", "127.0.0.1:0"],
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
