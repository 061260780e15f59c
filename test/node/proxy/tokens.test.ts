import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import { Redis as TcpRedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseProxyCli } from "../../../src/proxy/cli-config.ts";
import { createProxy } from "../../../src/proxy/index.ts";
import { type RedisServer, startRedisServer } from "../../helpers/redis-server.ts";
import { startPrivateProxy, unique } from "./proxy-fixtures.ts";

describe("tokens file: token → Redis URL, SRH's tokens.json as it is", () => {
  let first: RedisServer;
  let second: RedisServer;
  let proxy: ReturnType<typeof createProxy>;
  let url: string;
  beforeAll(async () => {
    [first, second] = await Promise.all([startRedisServer(), startRedisServer()]);
    const file = join(mkdtempSync(join(tmpdir(), "proxy-tokens-")), "tokens.json");
    writeFileSync(
      file,
      JSON.stringify({
        "srh-token": { srh_id: "one", connection_string: first.url, max_connections: 3 },
        "plain-url-token": second.url,
        "reader-token": { connection_string: second.url, read_only: true },
      }),
    );
    proxy = createProxy({ tokensFile: file, log: () => {} });
    ({ url } = await proxy.listen());
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all([first.stop(), second.stop()]);
  });

  it("routes each token to its own Redis", async () => {
    const first = new Redis({ url: url, token: "srh-token", retry: false });
    const other = new Redis({ url: url, token: "plain-url-token", retry: false });
    const k = unique("route");
    await first.set(k, "first");
    expect(await other.get(k)).toBeNull();
    await other.set(k, "second");
    expect(await first.get(k)).toBe("first");
    expect(await other.get(k)).toBe("second");
    expect(
      await new Redis({ url: url, token: "placeholder", retry: false })
        .get(k)
        .catch((error: Error) => error.message),
    ).toMatch(/Unauthorized/);
  });

  it("lets a read-only token read and nothing else", async () => {
    const writer = new Redis({ url: url, token: "plain-url-token", retry: false });
    const reader = new Redis({
      url: url,
      token: "reader-token",
      retry: false,
      enableAutoPipelining: false,
    });
    const k = unique("ro");
    await writer.set(k, "v");
    expect(await reader.get(k)).toBe("v");
    expect(await reader.exists(k)).toBe(1);
    expect(await reader.ping()).toBe("PONG");
    expect(await reader.evalRo("return redis.call('GET', KEYS[1])", [k], [])).toBe("v");
    await expect(reader.set(k, "w")).rejects.toThrow(/NOPERM this token is read-only and cannot run 'SET'/);
    await expect(reader.eval("return 1", [], [])).rejects.toThrow(/NOPERM/);
    await expect(reader.publish("ch", "x")).rejects.toThrow(/NOPERM/);
    await expect(reader.exec(["CONFIG", "SET", "maxmemory", "1"])).rejects.toThrow(/NOPERM/);
    const pipeline = await fetch(`${url}/pipeline`, {
      method: "POST",
      headers: { authorization: "Bearer reader-token" },
      body: JSON.stringify([
        ["get", k],
        ["del", k],
        ["strlen", k],
      ]),
    });
    expect(await pipeline.json()).toEqual([
      { result: "v" },
      { error: expect.stringMatching(/NOPERM.*'DEL'/) },
      { result: 1 },
    ]);
    const tx = await fetch(`${url}/multi-exec`, {
      method: "POST",
      headers: { authorization: "Bearer reader-token" },
      body: JSON.stringify([
        ["get", k],
        ["incr", k],
      ]),
    });
    expect(tx.status).toBe(400);
    expect(await writer.get(k)).toBe("v");
  });
});

describe("read-only tokens next to a full token", () => {
  it("readOnlyTokens share the default Redis", async () => {
    const stack = await startPrivateProxy({ token: "rw", readOnlyTokens: ["ro"] });
    try {
      const direct = new TcpRedis(stack.redis.url);
      await direct.set("k", "v");
      direct.disconnect();
      const reader = new Redis({ url: stack.url, token: "ro", retry: false });
      expect(await reader.get("k")).toBe("v");
      await expect(reader.del("k")).rejects.toThrow(/NOPERM/);
    } finally {
      await stack.stop();
    }
  });
});

describe("configuration errors say what is wrong", () => {
  it("refuses to start without a token, with a broken tokens file, or odd values", () => {
    expect(() => createProxy({})).toThrow(/needs at least one token/);
    const dir = mkdtempSync(join(tmpdir(), "proxy-bad-"));
    writeFileSync(join(dir, "bad.json"), "{nope");
    expect(() => createProxy({ tokensFile: join(dir, "bad.json") })).toThrow(/bad\.json is not valid JSON/);
    writeFileSync(join(dir, "shape.json"), JSON.stringify({ t: 42 }));
    expect(() => createProxy({ tokensFile: join(dir, "shape.json") })).toThrow(
      /shape\.json must map each token/,
    );
    expect(() => createProxy({ tokensFile: join(dir, "missing.json") })).toThrow(/cannot read tokens file/);
    expect(() => createProxy({ token: "has space" })).toThrow(/printable ASCII/);
    expect(() => createProxy({ token: "t", maxBodyBytes: -1 })).toThrow(
      /maxBodyBytes must be a positive number/,
    );
  });
});

describe("flags and environment", () => {
  it("reads flags", () => {
    const config = parseProxyCli(
      [
        "--listen",
        "127.0.0.1:9001",
        "--redis",
        "redis://127.0.0.1:7000",
        "--token",
        "a",
        "--token",
        "b",
        "--read-only-token",
        "r",
        "--allow-blocking",
        "--blocking-timeout-ms",
        "5000",
        "--max-body-bytes",
        "1000",
      ],
      {},
    );
    expect(config.host).toBe("127.0.0.1");
    expect(config.port).toBe(9001);
    expect(config.options).toMatchObject({
      redisUrl: "redis://127.0.0.1:7000",
      token: ["a", "b"],
      readOnlyTokens: ["r"],
      maxBodyBytes: 1000,
      allowBlocking: { timeoutMs: 5000 },
    });
  });

  it("reads cluster seed nodes from --redis-cluster-nodes, PROXY_REDIS_CLUSTER_NODES or REDIS_CLUSTER_NODES", () => {
    const nodes = ["10.0.0.1:7000", "10.0.0.2:7001"];
    const fromFlag = parseProxyCli(
      ["--redis-cluster-nodes", "10.0.0.1:7000", "--redis-cluster-nodes", "10.0.0.2:7001"],
      {},
    );
    expect(fromFlag.options.redisClusterNodes).toEqual(nodes);
    expect(
      parseProxyCli([], { PROXY_REDIS_CLUSTER_NODES: nodes.join(",") }).options.redisClusterNodes,
    ).toEqual(nodes);
    expect(
      parseProxyCli([], { REDIS_CLUSTER_NODES: ` ${nodes.join(" , ")} ` }).options.redisClusterNodes,
    ).toEqual(nodes);
    expect(parseProxyCli([], { REDIS_URL: "redis://h:1" }).options.redisClusterNodes).toBeUndefined();
  });

  it("falls back to PROXY_* variables and REDIS_URL", () => {
    const config = parseProxyCli([], {
      PROXY_LISTEN: "[::1]:0",
      REDIS_URL: "redis://h:1",
      PROXY_TOKEN: "x,y",
      PROXY_KEEPALIVE_MS: "500",
      PROXY_SHUTDOWN_GRACE_MS: "2500",
    });
    expect(config).toMatchObject({
      host: "::1",
      port: 0,
      options: { redisUrl: "redis://h:1", token: ["x", "y"], keepaliveMs: 500, shutdownGraceMs: 2500 },
    });
  });

  it("accepts SRH's env mode and file mode as they are", () => {
    const env = parseProxyCli([], {
      SRH_MODE: "env",
      SRH_TOKEN: "example_token",
      SRH_CONNECTION_STRING: "redis://redis:6379",
      SRH_PORT: "8080",
    });
    expect(env).toMatchObject({
      host: "0.0.0.0",
      port: 8080,
      options: { redisUrl: "redis://redis:6379", token: ["example_token"] },
    });
    const cwd = mkdtempSync(join(tmpdir(), "srh-"));
    mkdirSync(join(cwd, "srh-config"));
    writeFileSync(
      join(cwd, "srh-config/tokens.json"),
      JSON.stringify({ t: { srh_id: "x", connection_string: "redis://a:1", max_connections: 3 } }),
    );
    const file = parseProxyCli([], { SRH_MODE: "file" }, cwd);
    expect(file.options.tokensFile).toBe(join(cwd, "srh-config/tokens.json"));
    expect(parseProxyCli([], {}, cwd).options.tokensFile).toBe(join(cwd, "srh-config/tokens.json"));
    expect(() => parseProxyCli([], { SRH_MODE: "env", SRH_TOKEN: "t" })).toThrow(/SRH_CONNECTION_STRING/);
    expect(() => parseProxyCli([], { SRH_MODE: "magic" })).toThrow(/SRH_MODE must be "env" or "file"/);
  });

  it("rejects bad values with a message naming them", () => {
    expect(() => parseProxyCli(["--listen", "nowhere"], {})).toThrow(/--listen expects host:port/);
    expect(() => parseProxyCli(["--listen", "127.0.0.1:99999"], {})).toThrow(/port/);
    expect(() => parseProxyCli(["--max-body-bytes", "-5"], {})).toThrow(/positive whole number/);
    expect(() => parseProxyCli(["--bogus"], {})).toThrow(/unknown option/);
  });
});
