import { createRequire } from "node:module";
import type { TestProject } from "vitest/node";
import type { startTestStack as StartTestStack } from "./stack.ts";

// Loaded by Node itself (require of ESM), not through the project's Vite pipeline: the workers project resolves
// modules for workerd, where ioredis (CommonJS, used by the proxy) loses its named exports ("Redis is not a constructor").
const { startTestStack } = createRequire(import.meta.url)("./stack.ts") as {
  startTestStack: typeof StartTestStack;
};

/**
 * Vitest global setup (runs in Node, once per project): a private redis-server and the REST proxy,
 * handed to the tests through `inject()` and, for the workers project, to the worker's bindings.
 */
export default async function setup(project: TestProject) {
  const stack = await startTestStack();
  project.provide("redisUrl", stack.redisUrl);
  project.provide("upstashUrl", stack.restUrl);
  project.provide("upstashToken", stack.restToken);
  return () => stack.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    upstashUrl: string;
    upstashToken: string;
  }
}
