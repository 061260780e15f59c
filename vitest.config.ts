import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_JWT_SECRET } from "./test/helpers/constants.ts";

/** A workerd project: wrangler.toml's bindings plus the test stack's Redis proxy and `bindings`. */
function workersProject(name: string, include: string[], bindings: Record<string, string> = {}) {
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
            UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
            RELAY_JWT_SECRET: TEST_JWT_SECRET,
            ...bindings,
          },
        },
      })),
    ],
    test: {
      name,
      include,
      globalSetup: ["./test/helpers/global-setup.ts"],
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      {
        // Node: unit tests beside the code, the proxy, the Node entry, interop, real sockets, CLI, browser.
        test: {
          name: "node",
          include: ["src/**/*.test.ts", "test/node/**/*.test.ts"],
          globalSetup: ["./test/helpers/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      // workerd (Miniflare): the relay exactly as Workers runs it, with the Durable Object hub (wrangler.toml).
      workersProject("workers", ["test/workers/**/*.test.ts"]),
      // The direct path (RELAY_HUB=off, as on a host without Durable Objects): the SSE and long-poll scenarios.
      workersProject("workers-direct", ["test/workers/sse.test.ts", "test/workers/longpoll.test.ts"], {
        RELAY_HUB: "off",
      }),
      // Upstream streams counted on a proxy of its own (its global setup), so other files cannot disturb it.
      workersProject("workers-fanout", ["test/workers-fanout/**/*.test.ts"], { RELAY_HEARTBEAT_MS: "1000" }),
    ],
  },
});
