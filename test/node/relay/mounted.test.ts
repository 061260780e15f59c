import { Hono } from "hono";
import { describe, expect, inject, it } from "vitest";
import { createClient } from "../../../src/client/index.ts";
import { createApp } from "../../../src/relay/app.ts";
import { parseConfig } from "../../../src/relay/config.ts";
import { TEST_JWT_SECRET } from "../../helpers/constants.ts";
import { authScenarios } from "../../scenarios/auth.ts";
import { mintToken, type RelayTarget, uniqueName } from "../../scenarios/harness.ts";
import { hostileScenarios } from "../../scenarios/hostile.ts";
import { kvScenarios } from "../../scenarios/kv.ts";
import { longPollScenarios } from "../../scenarios/longpoll.ts";
import { methodScenarios } from "../../scenarios/methods.ts";
import { publishScenarios } from "../../scenarios/publish.ts";
import { sseScenarios } from "../../scenarios/sse.ts";
import { socketTarget } from "../runtimes/socket-target.ts";

/**
 * The relay mounted inside a user's own Hono app (`parent.route("/relay", createApp(...))`, docs/deploy.md):
 * keys and channels must be read relative to the route the request matched, not at a fixed `/v1/` offset.
 * Driven through `parent.fetch` in-process against the real test stack (redis-server + proxy).
 */
const BASE = "/relay";
const relay = createApp({
  config: parseConfig({
    UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
    UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
    RELAY_JWT_SECRET: TEST_JWT_SECRET,
    RELAY_HEARTBEAT_MS: "1000",
  }),
});
const parent = new Hono();
parent.get("/", (c) => c.text("the user's own home page"));
parent.get("/v1/kv/:key", (c) => c.text("the user's own /v1 route"));
parent.route(BASE, relay);

const fetchParent = (request: Request) => Promise.resolve(parent.fetch(request));
/** The shared scenarios' target, with every path sent under the mount through `parent.fetch`. */
const target: RelayTarget = {
  ...socketTarget({
    runtime: "node",
    baseUrl: () => "http://app.test",
    upstashUrl: inject("upstashUrl"),
    upstashToken: inject("upstashToken"),
  }),
  fetch: (path, init) => fetchParent(new Request(new URL(`${BASE}${path}`, "http://app.test"), init)),
};
const { redis } = target;

describe("a relay mounted at /relay inside another Hono app", () => {
  it("leaves the parent's own routes alone, including a /v1 route of its own", async () => {
    expect(await (await parent.fetch(new Request("http://app.test/"))).text()).toBe(
      "the user's own home page",
    );
    const own = await parent.fetch(new Request("http://app.test/v1/kv/x"));
    expect(await own.text()).toBe("the user's own /v1 route");
    const outside = await parent.fetch(new Request("http://app.test/elsewhere"));
    expect([outside.status, outside.headers.get("content-type")]).toEqual([404, "text/plain; charset=UTF-8"]);
  });

  it("serves the live page at /relay/ (redirecting /relay there) with its assets, and problems under the mount", async () => {
    const bare = await target.fetch("");
    expect([bare.status, bare.headers.get("location")]).toEqual([308, "/relay/"]);
    const page = await target.fetch("/");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('src="page/app.js"');
    expect((await target.fetch("/page/app.js")).status).toBe(200);
    const unknown = await target.fetch("/nope");
    expect([unknown.status, unknown.headers.get("content-type")]).toEqual([404, "application/problem+json"]);
  });

  it("reads keys with / and % and channels relative to the mount (the SDK with a base-path URL)", async () => {
    const client = createClient({
      url: `http://app.test${BASE}`,
      token: await mintToken(TEST_JWT_SECRET, "admin"),
      fetch: fetchParent,
    });
    const key = `${uniqueName("mnt")}/v1/kv/100%/a%2Fb`;
    const written = await client.kv.set(key, { mounted: true });
    expect(written).toMatchObject({ key, created: true });
    expect(await redis.get(key)).toBe('{"mounted":true}');
    expect((await client.kv.get(key))?.value).toEqual({ mounted: true });
    // A SCAN page may miss the key on a Redis shared with other tests (docs/api.md): walk every page.
    const listed: string[] = [];
    for await (const name of client.kv.keys({ prefix: key.split("/")[0] })) listed.push(name);
    expect(listed).toEqual([key]);

    const channel = uniqueName("mnt.ch");
    const first = await client.publish(channel, { n: 1 });
    expect(first.channel).toBe(channel);
    expect(await redis.xlen(`relay:{${channel}}:log`)).toBe(1);
    expect(await client.channels.info(channel)).toMatchObject({ channel, length: 1 });

    // Long-poll: held until the publish below arrives.
    const waiting = client.history(channel, { after: first.id, wait: 10 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await client.publish(channel, "two");
    expect((await waiting).messages.map((m) => [m.id, m.data])).toEqual([[second.id, "two"]]);

    // SSE: resumed after the first message, so the second is replayed.
    for await (const event of client.subscribe(channel, { after: first.id, transport: "sse" })) {
      expect(event).toMatchObject({ type: "message", id: second.id, channel, data: "two" });
      break;
    }
    await client.kv.delete(key);
    expect(await redis.exists(key)).toBe(0);
  });
});

const suites = {
  kv: kvScenarios,
  publish: publishScenarios,
  auth: authScenarios,
  hostile: hostileScenarios,
  methods: methodScenarios,
  sse: sseScenarios,
  "long-poll": longPollScenarios,
};
for (const [suite, scenarios] of Object.entries(suites)) {
  describe(`mounted: ${suite}`, () => {
    for (const scenario of scenarios) it(scenario.name, () => scenario.run(target), 90_000);
  });
}
