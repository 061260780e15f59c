import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_JWT_SECRET } from "./test/helpers/constants.ts";

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
      {
        // workerd (Miniflare): the relay exactly as Workers runs it.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                UPSTASH_REDIS_REST_URL: inject("upstashUrl"),
                UPSTASH_REDIS_REST_TOKEN: inject("upstashToken"),
                RELAY_JWT_SECRET: TEST_JWT_SECRET,
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          globalSetup: ["./test/helpers/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
