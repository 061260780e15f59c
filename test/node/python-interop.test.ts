import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { createApp } from "../../src/relay/app.ts";
import { parseConfig } from "../../src/relay/config.ts";
import { uniqueName } from "../scenarios/harness.ts";

/**
 * The README's promise to plain Redis processes, checked with a real Python redis-py process running
 * examples/python/relay_ipc.py: it sees what the relay publishes and stores, and what it stores and
 * publishes durably (with the relay's own script) is what the relay serves.
 */
const EXAMPLE = join(import.meta.dirname, "../../examples/python/relay_ipc.py");
const python = findPythonWithRedis();
const app = createApp({
  config: parseConfig({
    UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
    UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
    RELAY_AUTH: "none",
  }),
});
const env = { ...process.env, REDIS_URL: inject("redisUrl") };

function findPythonWithRedis(): string {
  const candidates = [process.env.PYTHON, "python3", "/usr/bin/python3"].filter((c): c is string =>
    Boolean(c),
  );
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ["-c", "import redis"], { encoding: "utf8" });
    if (probe.status === 0) return candidate;
  }
  throw new Error(
    `no Python with redis-py among ${candidates.join(", ")}: install Debian's python3-redis ` +
      "(apt-get install python3-redis) or `pip install redis`, or set PYTHON",
  );
}

function runPython(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(python, [EXAMPLE, ...args], { env, encoding: "utf8", timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts `relay_ipc.py subscribe` and resolves once redis-py confirmed the subscription. */
function startSubscriber(
  channel: string,
  count: number,
): Promise<{ child: ChildProcessWithoutNullStreams; lines: Promise<string[]> }> {
  const child = spawn(python, [EXAMPLE, "subscribe", channel, String(count)], { env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const lines = new Promise<string[]>((resolve, reject) => {
    child.once("exit", (code) =>
      code === 0 ? resolve(stdout.trim().split("\n")) : reject(new Error(`python exited ${code}: ${stderr}`)),
    );
  });
  return new Promise((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("ready")) resolve({ child, lines });
    });
    child.once("exit", (code) => reject(new Error(`python exited ${code} before subscribing: ${stderr}`)));
  });
}

describe("a Python redis-py process next to the relay", () => {
  it("receives the raw payload of every HTTP publish on the classic channel", async () => {
    const channel = uniqueName("py-orders");
    const { child, lines } = await startSubscriber(channel, 2);
    try {
      const first = await app.request(`/v1/channels/${channel}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: 17, item: "grüße" }),
      });
      expect(first.status).toBe(201);
      const second = await app.request(`/v1/channels/${channel}/messages`, {
        method: "POST",
        headers: { "content-type": "text/plain; charset=utf-8" },
        body: "shipped, 2 boxes",
      });
      expect(second.status).toBe(201);
      expect((await lines).map((line) => JSON.parse(line))).toEqual([
        { channel, data: { id: 17, item: "grüße" } },
        { channel, data: "shipped, 2 boxes" },
      ]);
    } finally {
      child.kill();
    }
  });

  it("reads a JSON value stored over HTTP with json.loads, and its own SET is served as JSON", async () => {
    const key = uniqueName("py-config");
    const put = await app.request(`/v1/kv/${key}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mode: "fast", limits: [1, 2] }),
    });
    expect(put.status).toBe(201);
    const read = runPython(["get", key]);
    expect(read.status, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toEqual({ mode: "fast", limits: [1, 2] });

    const text = uniqueName("py-text");
    const putText = await app.request(`/v1/kv/${text}`, {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "plain words",
    });
    expect(putText.status).toBe(201);
    const readText = runPython(["get", text]);
    expect(readText.status, readText.stderr).toBe(0);
    expect(JSON.parse(readText.stdout)).toBe("plain words");

    const own = uniqueName("py-own");
    const write = runPython(["set", own, '{"from": "python"}']);
    expect(write.status, write.stderr).toBe(0);
    const served = await app.request(`/v1/kv/${own}`);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toContain("application/json");
    expect(await served.json()).toEqual({ from: "python" });
  });

  it("publishes durably with the relay's script: the message is in history like an HTTP publish", async () => {
    const channel = uniqueName("py-durable");
    const viaHttp = await app.request(`/v1/channels/${channel}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"n":1}',
    });
    expect(viaHttp.status).toBe(201);
    const published = runPython(["publish", channel, '{"n": 2}', "--event", "py"]); // the shipped publish.lua
    expect(published.status, published.stderr).toBe(0);
    const { stream_id: streamId } = JSON.parse(published.stdout) as { stream_id: string };

    const history = await app.request(`/v1/channels/${channel}/messages?limit=10`);
    expect(history.status).toBe(200);
    const body = (await history.json()) as {
      messages: { data: unknown; event: string; id: string }[];
      gap: boolean;
    };
    expect(body.gap).toBe(false);
    expect(body.messages.map((m) => [m.data, m.event])).toEqual([
      [{ n: 1 }, "message"],
      [{ n: 2 }, "py"],
    ]);
    expect(body.messages[1]?.id).toContain(streamId);
  });

  it("the README's Python snippet runs as printed: REDIS_URL from npm start, JSON and text payloads", async () => {
    const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
    const block = /And a plain Redis process[\s\S]*?```python\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, "the README has the snippet").toBeTruthy();
    // Only the names change, so parallel tests cannot meet on "config" and "orders".
    const key = uniqueName("readme-config");
    const channel = uniqueName("readme-orders");
    const code = (block as string)
      .replaceAll('"config"', JSON.stringify(key))
      .replaceAll('"orders"', JSON.stringify(channel));
    const put = await app.request(`/v1/kv/${key}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"mode":"fast"}',
    });
    expect(put.status).toBe(201);
    const child = spawn(python, ["-u", "-c", code], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const publish = (body: string, type: string) =>
      app.request(`/v1/channels/${channel}/messages`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
    try {
      // Subscribed once a warm-up message comes back (the snippet prints no "ready" line).
      const deadline = Date.now() + 20_000;
      while (!stdout.includes("'warm'") && Date.now() < deadline && child.exitCode === null) {
        await publish('{"warm":1}', "application/json");
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(stdout, stderr).toContain("'warm'");
      await publish("plain words, not JSON", "text/plain");
      await publish('{"n":1}', "application/json");
      while (!stdout.includes("{'n': 1}") && Date.now() < deadline && child.exitCode === null)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const lines = stdout
        .trim()
        .split("\n")
        .filter((line) => !line.includes("'warm'"));
      expect(lines, stderr).toEqual(["{'mode': 'fast'}", "plain words, not JSON", "{'n': 1}"]);
    } finally {
      child.kill();
    }
  }, 40_000);
});
