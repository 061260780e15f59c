import { describe, expect, inject, it, onTestFinished } from "vitest";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { mintToken } from "../../scenarios/harness.ts";
import { finished, runCli, spawnCli, stderrUntil } from "./run-cli.ts";

const relayEnv = () => ({
  UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
  UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
  RELAY_JWT_SECRET: TEST_JWT_SECRET,
  HOST: "127.0.0.1",
  PORT: "0",
});

describe("relay serve (the relay on Node, configured by the environment)", () => {
  it("serves KV and SSE; SIGTERM ends it with exit 0 even while a stream is open", async () => {
    const child = spawnCli(["serve"], relayEnv());
    const done = finished(child);
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    const banner = await stderrUntil(child, /relay serve: listening on \S+/, 30_000);
    const url = /listening on (\S+)/.exec(banner)?.[1] as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const auth = { authorization: `Bearer ${await mintToken(TEST_JWT_SECRET, "admin")}` };
    const key = `serve-${crypto.randomUUID()}`;
    const put = await fetch(`${url}/v1/kv/${key}`, {
      method: "PUT",
      headers: { ...auth, "content-type": "text/plain" },
      body: "served",
    });
    expect(put.status).toBe(201);
    expect(await (await fetch(`${url}/v1/kv/${key}`, { headers: auth })).text()).toBe("served");
    await fetch(`${url}/v1/kv/${key}`, { method: "DELETE", headers: auth });

    const stream = await fetch(`${url}/v1/channels/serve-open/events`, { headers: auth });
    expect(stream.status).toBe(200);
    const startedAt = Date.now();
    child.kill("SIGTERM");
    const stopped = await done;
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toContain("relay serve: SIGTERM, closing");
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    await stream.body?.cancel().catch(() => {});
  }, 60_000);

  it("a missing or bad setting exits 2 naming the variable, and serves nothing", async () => {
    const missing = await runCli(["serve"], { env: { HOST: "127.0.0.1", PORT: "0" } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("UPSTASH_REDIS_REST_URL is required");
    const bad = await runCli(["serve"], { env: { ...relayEnv(), RELAY_HISTORY: "many" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("RELAY_HISTORY");
  });
});
