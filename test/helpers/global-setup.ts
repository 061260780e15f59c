import type { TestProject } from "vitest/node";
import { startTestStack } from "./stack.ts";

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
