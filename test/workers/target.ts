import { env, exports } from "cloudflare:workers";
import type { Redis as NodeRedis } from "@upstash/redis";
import { Redis } from "@upstash/redis/cloudflare";
import { inject } from "vitest";
import { TEST_JWT_SECRET } from "../helpers/constants.ts";
import { mintToken, type RelayTarget } from "../scenarios/harness.ts";

/**
 * The relay exactly as Workers runs it (src/entry/worker.ts inside workerd), plus Redis via the real proxy. The
 * "workers" project runs it with the Durable Object hub (wrangler.toml's binding), "workers-direct" with
 * RELAY_HUB=off (vitest.config.ts).
 */
export function workersTarget(): RelayTarget {
  return {
    runtime: "workers",
    hub: String(env.RELAY_HUB ?? "on") !== "off",
    fetch: (path, init) => exports.default.fetch(new Request(new URL(path, "http://relay.test"), init)),
    token: (scope, options) => mintToken(TEST_JWT_SECRET, scope, options),
    redis: directRedis() as unknown as NodeRedis,
  };
}

/** @upstash/redis against the test proxy, raw strings, no retries: to inspect and to break things. */
export function directRedis(): Redis {
  return new Redis({
    url: inject("upstashUrl"),
    token: inject("upstashToken"),
    automaticDeserialization: false,
    responseEncoding: false,
    enableAutoPipelining: false,
    retry: false,
    enableTelemetry: false,
  });
}
