import { connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { postJson, proxyFetch, sharedProxy, tcpClient, unique } from "./proxy-fixtures.ts";

// The wire protocol as @upstash/redis and curl see it: endpoints, encodings, headers and every error shape.
const direct = tcpClient();
afterAll(() => direct.quit());
const b64 = (text: string) => Buffer.from(text).toString("base64");

async function json(response: Response): Promise<unknown> {
  expect(response.headers.get("content-type")).toBe("application/json");
  return response.json();
}

describe("endpoints", () => {
  it("POST / runs one command and always carries result, null included", async () => {
    const k = unique("single");
    expect(await json(await postJson("/", ["SET", k, "v"]))).toEqual({ result: "OK" });
    expect(await json(await postJson("/", ["get", k]))).toEqual({ result: "v" });
    expect(await json(await postJson("/", ["get", unique("missing")]))).toEqual({ result: null });
  });

  it("passes integer arguments on as the digits sent, even past 2^53 (no double rounding), and 1e400 as sent", async () => {
    const [big, inc, neg, huge] = [unique("big"), unique("inc"), unique("neg"), unique("huge")];
    const body = `[["SET","${big}",12345678901234567890],["SET","${inc}",9007199254740993],["INCRBY","${inc}",1],["SET","${neg}",-0],["SET","${huge}",1e400]]`;
    expect(await json(await postJson("/pipeline", body))).toEqual([
      { result: "OK" },
      { result: "OK" },
      { result: "9007199254740994" }, // past 2^53 the proxy answers integers as text
      { result: "OK" },
      { result: "OK" },
    ]);
    expect(await direct.get(big)).toBe("12345678901234567890");
    expect(await direct.get(inc)).toBe("9007199254740994");
    expect(await direct.get(neg)).toBe("-0");
    expect(await direct.get(huge)).toBe("1e400");
    // Numbers a double holds exactly keep their usual text.
    expect(await json(await postJson("/", `["SET","${big}",1.50]`))).toEqual({ result: "OK" });
    expect(await direct.get(big)).toBe("1.5");
  });

  it("POST /pipeline answers one slot per command, errors in place", async () => {
    const k = unique("pipe");
    const response = await postJson("/pipeline", [
      ["set", k, "a"],
      ["incr", k],
      ["strlen", k],
    ]);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual([
      { result: "OK" },
      { error: "ERR value is not an integer or out of range" },
      { result: 1 },
    ]);
  });

  it("path-style GET/POST/PUT/HEAD with query options and a raw body", async () => {
    const k = unique("path");
    expect(await json(await proxyFetch(`/set/${encodeURIComponent(k)}/hello%20world?EX=100`))).toEqual({
      result: "OK",
    });
    expect(await direct.ttl(k)).toBeGreaterThan(90);
    expect(await json(await proxyFetch(`/get/${encodeURIComponent(k)}`))).toEqual({ result: "hello world" });
    const body = Buffer.from([0x00, 0xff, 0x0a, 0x41]);
    const put = await proxyFetch(`/set/${encodeURIComponent(k)}`, { method: "PUT", body });
    expect(await json(put)).toEqual({ result: "OK" });
    expect(await direct.getBuffer(k)).toEqual(body);
    const post = await proxyFetch(`/append/${encodeURIComponent(k)}`, { method: "POST", body: "xyz" });
    expect(await json(post)).toEqual({ result: 7 });
    const head = await proxyFetch(`/get/${encodeURIComponent(k)}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const bare = await proxyFetch("/", { method: "GET" });
    expect(bare.status).toBe(405);
    expect(await json(bare)).toEqual({ error: "ERR / takes POST with a JSON body, got GET" });
  });

  it("accepts the token as ?_token= and a missing or odd Content-Type", async () => {
    const { url, token } = sharedProxy();
    const response = await fetch(`${url}/?_token=${token}`, {
      method: "POST",
      body: JSON.stringify(["ping"]),
    });
    expect(await json(response)).toEqual({ result: "PONG" });
    const path = await fetch(`${url}/echo/hi?_token=${token}`);
    expect(await json(path)).toEqual({ result: "hi" });
  });

  it("answers json only: Upstash-Response-Format resp2 is refused, json accepted", async () => {
    const resp2 = await postJson("/", ["ping"], { "upstash-response-format": "resp2" });
    expect(resp2.status).toBe(400);
    expect(await json(resp2)).toEqual({
      error: expect.stringMatching(/Upstash-Response-Format resp2 is not supported/),
    });
    expect(await json(await postJson("/", ["ping"], { "upstash-response-format": "json" }))).toEqual({
      result: "PONG",
    });
  });

  it("refuses other methods with 405 JSON and an Allow header naming the route's methods", async () => {
    const response = await proxyFetch("/get/a", { method: "DELETE" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, POST, PUT, HEAD");
    expect(await json(response)).toEqual({ error: expect.stringContaining("DELETE") });
    const cases: Array<[string, string, string]> = [
      ["/pipeline", "GET", "POST"],
      ["/multi-exec", "PUT", "POST"],
      ["/", "DELETE", "POST"],
      ["/subscribe/x", "HEAD", "POST, GET"],
      ["/psubscribe/x*", "PATCH", "POST, GET"],
      ["/metrics", "POST", "GET"],
    ];
    for (const [path, method, allow] of cases) {
      const refused = await proxyFetch(path, { method });
      expect([path, method, refused.status, refused.headers.get("allow")]).toEqual([
        path,
        method,
        405,
        allow,
      ]);
      if (method !== "HEAD")
        expect(((await refused.json()) as { error: string }).error).toMatch(/^ERR .*got/);
    }
    // Health needs no token, so its 405 needs none either; the command routes answer 401 before 405.
    const health = await proxyFetch("/healthz", { method: "POST", token: null });
    expect([health.status, health.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    await health.body?.cancel();
    const anonymous = await proxyFetch("/pipeline", { method: "GET", token: null });
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
  });
});

describe("Upstash-Encoding: base64", () => {
  it("encodes every string at every depth from the raw bytes, numbers and null untouched, errors never", async () => {
    const k = unique("enc");
    await direct.set(k, Buffer.from([0xc3, 0x28, 0x00, 0xff])); // invalid UTF-8 on purpose
    const base64 = { "upstash-encoding": "base64" };
    expect(await json(await postJson("/", ["get", k], base64))).toEqual({
      result: Buffer.from([0xc3, 0x28, 0x00, 0xff]).toString("base64"),
    });
    const script = "return {'a', 1, false, {'OK', 'ü'}, redis.status_reply('PONG')}";
    expect(await json(await postJson("/", ["eval", script, 0], base64))).toEqual({
      result: [b64("a"), 1, null, [b64("OK"), b64("ü")], b64("PONG")],
    });
    expect(
      await json(
        await postJson(
          "/pipeline",
          [
            ["set", k, "x"],
            ["lpush", k, "y"],
          ],
          base64,
        ),
      ),
    ).toEqual([
      { result: b64("OK") },
      { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
    ]);
    const error = await postJson("/", ["incr", k], base64);
    expect(error.status).toBe(400);
    expect(await json(error)).toEqual({ error: "ERR value is not an integer or out of range" });
  });

  it("answers UTF-8 with U+FFFD for invalid bytes when not asked for base64", async () => {
    const k = unique("utf8");
    await direct.set(k, Buffer.from([0x61, 0xff, 0x62]));
    expect(await json(await postJson("/", ["get", k]))).toEqual({ result: "a\ufffdb" });
  });
});

describe("headers", () => {
  it("sends a changing upstash-sync-token on every response and accepts one in the request", async () => {
    const first = await postJson("/", ["ping"], { "upstash-sync-token": "" });
    const second = await postJson("/", ["ping"], {
      "upstash-sync-token": first.headers.get("upstash-sync-token") ?? "",
    });
    const error = await proxyFetch("/", { method: "POST", body: "[", token: null });
    for (const response of [first, second, error])
      expect(response.headers.get("upstash-sync-token")).toBeTruthy();
    expect(second.headers.get("upstash-sync-token")).not.toBe(first.headers.get("upstash-sync-token"));
  });

  it("answers CORS preflights with the requested headers and exposes the sync token", async () => {
    const { url } = sharedProxy();
    const preflight = await fetch(`${url}/pipeline`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers":
          "authorization,content-type,upstash-encoding,upstash-sync-token,upstash-telemetry-sdk",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("upstash-sync-token");
    const actual = await postJson("/", ["ping"], { origin: "https://app.example" });
    expect(actual.headers.get("access-control-allow-origin")).toBe("*");
    expect(actual.headers.get("access-control-expose-headers")).toContain("upstash-sync-token");
  });
});

describe("errors are JSON and change nothing", () => {
  it("401 Unauthorized without a token, with a wrong one, for every endpoint", async () => {
    const k = unique("unauth");
    for (const [path, body] of [
      ["/", ["set", k, "x"]],
      ["/pipeline", [["set", k, "x"]]],
      ["/multi-exec", [["set", k, "x"]]],
      ["/subscribe/x", []],
      ["/psubscribe/x*", []],
    ] as const) {
      for (const authorization of [undefined, "Bearer wrong", "Basic abc", "Bearer"]) {
        const headers: Record<string, string> = authorization ? { authorization } : {};
        const response = await proxyFetch(path, {
          method: "POST",
          headers,
          body: JSON.stringify(body),
          token: null,
        });
        expect(response.status).toBe(401);
        expect(await json(response)).toEqual({ error: "Unauthorized" });
      }
    }
    const { url } = sharedProxy();
    expect((await fetch(`${url}/set/${k}/x?_token=nope`)).status).toBe(401);
    expect(await direct.exists(k)).toBe(0);
  });

  it("400 for malformed JSON, wrong shapes and invalid UTF-8, naming the problem", async () => {
    const cases: Array<[string, string | Uint8Array<ArrayBuffer>, RegExp]> = [
      ["/", "[", /not valid JSON/],
      ["/", "", /empty/],
      ["/", '{"cmd":"get"}', /must be a JSON array/],
      ["/", "[]", /empty array/],
      ["/", "[1,2]", /command name must be a non-empty string/],
      ["/", '["set","k",{"a":1}]', /argument 2 must be a string, number, boolean or null/],
      ["/", '["set","k",["x"]]', /got an array/],
      ["/", `["set","k",${"[".repeat(20_000)}${"]".repeat(20_000)}]`, /argument 2 must be .* got an array/],
      ["/pipeline", '["get","k"]', /command 1 must be a JSON array/],
      ["/pipeline", "[]", /no commands/],
      ["/multi-exec", '[["get"],"x"]', /command 2/],
      ["/", new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d]), /not valid UTF-8/],
    ];
    for (const [path, body, message] of cases) {
      const response = await proxyFetch(path, { method: "POST", body });
      expect(response.status, `${path} ${String(body)}`).toBe(400);
      expect((await json(response)) as { error: string }).toEqual({ error: expect.stringMatching(message) });
    }
  });

  it("Redis errors are 400 with Redis's text; unknown commands too", async () => {
    const response = await postJson("/", ["nosuchcommand", "x"]);
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: expect.stringMatching(/^ERR unknown command/) });
    const arity = await postJson("/", ["get"]);
    expect(await json(arity)).toEqual({ error: expect.stringMatching(/wrong number of arguments/) });
  });

  it("refuses blocking and connection-state commands with 400 by default, also inside pipelines", async () => {
    for (const command of [
      ["blpop", "q", 1],
      ["xread", "BLOCK", 10, "STREAMS", "s", "$"],
      ["watch", "k"],
      ["select", 1],
      ["subscribe", "c"],
      ["multi"],
      ["client", "reply", "off"],
    ]) {
      const response = await postJson("/", command);
      expect(response.status, JSON.stringify(command)).toBe(400);
      expect(await json(response)).toEqual({ error: expect.stringMatching(/not supported over REST/) });
    }
    const k = unique("afterRefusal");
    const pipeline = await postJson("/pipeline", [
      ["set", k, "1"],
      ["brpop", "q", 1],
      ["get", k],
    ]);
    expect(await json(pipeline)).toEqual([
      { result: "OK" },
      { error: expect.stringMatching(/BRPOP.*blocks/) },
      { result: "1" },
    ]);
    // The shared connection is still in its normal state: no SELECT or SUBSCRIBE leaked.
    expect(await json(await postJson("/", ["get", k]))).toEqual({ result: "1" });
  });

  it("413 for a body over the limit, by Content-Length or while streaming", async () => {
    const { url, token } = sharedProxy();
    const huge = JSON.stringify(["set", unique("huge"), "x".repeat(11 * 1024 * 1024)]);
    const response = await postJson("/", huge);
    expect(response.status).toBe(413);
    expect(await json(response)).toEqual({ error: expect.stringMatching(/exceeds the proxy's limit/) });
    // Chunked upload without Content-Length.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let index = 0; index < 12; index++) controller.enqueue(new Uint8Array(1024 * 1024).fill(0x20));
        controller.close();
      },
    });
    const streamed = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: chunks,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });
});

describe("health and metrics", () => {
  it("/healthz answers without a token", async () => {
    const { url } = sharedProxy();
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it("/metrics exposes requests, errors, latency, streams and Redis state", async () => {
    await postJson("/", ["nosuchcommand"]);
    const { url } = sharedProxy();
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/^upstash_proxy_requests_total\{endpoint="command",status="200"\} \d+$/m);
    expect(text).toMatch(/^upstash_proxy_errors_total\{kind="redis"\} \d+$/m);
    expect(text).toMatch(
      /^upstash_proxy_request_duration_seconds_bucket\{endpoint="command",le="\+Inf"\} \d+$/m,
    );
    expect(text).toMatch(/^upstash_proxy_open_streams \d+$/m);
    expect(text).toMatch(/^upstash_proxy_redis_up\{redis="redis:\/\/127\.0\.0\.1:\d+",role="commands"\} 1$/m);
  });
});

describe("requests node:http itself cannot take", () => {
  it("answers an oversized URL (a huge channel or key in the path) with JSON, not an empty body", async () => {
    const response = await proxyFetch(`/subscribe/${"x".repeat(20_000)}`, { method: "POST", body: "[]" });
    expect(response.status).toBe(431);
    expect(await json(response)).toEqual({ error: expect.stringMatching(/too large/) });
  });

  it("answers a malformed request line with JSON", async () => {
    const { url } = sharedProxy();
    const { port } = new URL(url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => socket.write("NOT HTTP AT ALL\r\n\r\n"));
      let text = "";
      socket.on("data", (chunk) => {
        text += chunk.toString();
      });
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(reply).toContain("content-type: application/json");
    expect(JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4))).toEqual({
      error: expect.stringMatching(/malformed HTTP request/),
    });
  });
});
