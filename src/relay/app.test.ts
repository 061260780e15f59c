import { Redis } from "@upstash/redis";
import { describe, expect, inject, it } from "vitest";
import { uniqueName } from "../../test/scenarios/harness.ts";
import { createApp } from "./app.ts";
import { parseConfig } from "./config.ts";

/** createApp under non-default configurations, against the real proxy and redis-server. */
const env = {
  UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
  UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
  RELAY_AUTH: "none",
};
const redis = new Redis({
  url: inject("upstashUrl"),
  token: inject("upstashToken"),
  automaticDeserialization: false,
  responseEncoding: false,
});

describe("createApp configuration", () => {
  it("RELAY_KV_PREFIX namespaces KV keys in Redis; listing strips it and shows only its own keys", async () => {
    const prefix = `${uniqueName("app")}:`;
    const app = createApp({ config: parseConfig({ ...env, RELAY_KV_PREFIX: prefix }) });
    const key = "greeting";
    expect(
      (
        await app.request(`/v1/kv/${key}`, {
          method: "PUT",
          headers: { "content-type": "text/plain" },
          body: "hi",
        })
      ).status,
    ).toBe(201);
    expect(await redis.get(`${prefix}${key}`)).toBe("hi");
    expect(await redis.exists(`relay:{${prefix}${key}}:meta`)).toBe(1);
    expect(await redis.exists(key)).toBe(0);
    await redis.set(`${prefix}other`, "x");
    await redis.set(`${uniqueName("outside")}`, "y");
    const keys: string[] = [];
    let cursor = "0";
    do {
      const page = (await (await app.request(`/v1/kv?limit=1000&cursor=${cursor}`)).json()) as {
        keys: string[];
        cursor: string;
      };
      keys.push(...page.keys);
      cursor = page.cursor;
    } while (cursor !== "0");
    expect(keys.sort()).toEqual(["greeting", "other"]);
    expect(await (await app.request(`/v1/kv/${key}`)).text()).toBe("hi");
  });

  it("a RELAY_KV_PREFIX that begins relay: (`rel`) cannot reach relay-owned keys: such keys are 400, never listed", async () => {
    const app = createApp({ config: parseConfig({ ...env, RELAY_KV_PREFIX: "rel" }) });
    const channel = uniqueName("kv-prefix-victim");
    const publish = { method: "POST", headers: { "content-type": "text/plain" }, body: "x" };
    expect((await app.request(`/v1/channels/${channel}/messages`, publish)).status).toBe(201);
    const epochKey = `relay:{${channel}}:epoch`;
    const epoch = await redis.get(epochKey);
    const key = encodeURIComponent(`ay:{${channel}}:epoch`); // "rel" + key = the channel's epoch key
    const text = { headers: { "content-type": "text/plain" }, body: "forged" };
    for (const init of [{}, { method: "PUT", ...text }, { method: "DELETE" }]) {
      const response = await app.request(`/v1/kv/${key}`, init);
      expect(response.status).toBe(400);
      const problem = (await response.json()) as { code: string; detail: string };
      expect(problem.code).toBe("invalid_name");
      expect(problem.detail).toMatch(/RELAY_KV_PREFIX "rel".*reserved/);
    }
    expect(await redis.get(epochKey)).toBe(epoch);
    const listed = (await (
      await app.request(`/v1/kv?prefix=${encodeURIComponent(`ay:{${channel}`)}`)
    ).json()) as {
      keys: string[];
    };
    expect(listed.keys).toEqual([]);
    // Keys that do not complete "relay:" still work under that prefix.
    expect((await app.request(`/v1/kv/${uniqueName("ay-ok")}`, { method: "PUT", ...text })).status).toBe(201);
  });

  it("RELAY_AUTH=none needs no token; RELAY_MAX_BODY bounds bodies", async () => {
    const app = createApp({ config: parseConfig({ ...env, RELAY_MAX_BODY: "16" }) });
    const key = uniqueName("small");
    expect(
      (
        await app.request(`/v1/kv/${key}`, {
          method: "PUT",
          headers: { "content-type": "text/plain" },
          body: "x".repeat(16),
        })
      ).status,
    ).toBe(201);
    const tooBig = await app.request(`/v1/kv/${key}`, {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "x".repeat(17),
    });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { code: string; limit: number }).limit).toBe(16);
    expect(await redis.get(key)).toBe("x".repeat(16));
  });

  it("RELAY_HISTORY and RELAY_HISTORY_TTL_S shape what the publish script keeps", async () => {
    const app = createApp({ config: parseConfig({ ...env, RELAY_HISTORY: "5", RELAY_HISTORY_TTL_S: "90" }) });
    const channel = uniqueName("small-history");
    for (let i = 0; i < 250; i++) {
      expect(
        (
          await app.request(`/v1/channels/${channel}/messages`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: String(i),
          })
        ).status,
      ).toBe(201);
    }
    const length = await redis.xlen(`relay:{${channel}}:log`);
    expect(length).toBeGreaterThanOrEqual(5);
    expect(length).toBeLessThan(250); // MAXLEN ~ trims whole nodes
    const ttl = await redis.ttl(`relay:{${channel}}:log`);
    expect(ttl > 0 && ttl <= 90).toBe(true);
  });

  it("an unreachable or refusing Redis REST endpoint is a 503 problem, for /healthz and for routes", async () => {
    const down = createApp({ config: parseConfig({ ...env, UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" }) });
    const health = await down.request("/healthz");
    expect(health.status).toBe(503);
    expect(((await health.json()) as { code: string }).code).toBe("redis_unavailable");
    const kv = await down.request("/v1/kv/a");
    expect(kv.status).toBe(503);
    const refused = createApp({ config: parseConfig({ ...env, UPSTASH_REDIS_REST_TOKEN: "wrong-token" }) });
    const problem = (await (
      await refused.request("/v1/channels/a/messages", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "x",
      })
    ).json()) as {
      code: string;
      detail: string;
    };
    expect(problem.code).toBe("redis_unavailable");
    expect(problem.detail).not.toContain("wrong-token");
  });
});

describe("createApp's routing", () => {
  it("every route fits Hono's RegExpRouter (a route it refuses silently puts every request on the slower trie)", async () => {
    const app = createApp({ config: parseConfig(env) });
    await app.fetch(new Request("http://relay.test/healthz-not-a-route"));
    expect((app as unknown as { router: { name: string } }).router.name).toBe("SmartRouter + RegExpRouter");
  });
});
