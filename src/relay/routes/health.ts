import { Hono } from "hono";
import { ProblemError } from "../../protocol/problems.ts";
import type { RelayEnv } from "../context.ts";
import { oneLine } from "../http/upstream-failure.ts";

/** GET /healthz: 200 when Redis answers PING through the REST endpoint, 503 otherwise. No auth. */
export const healthRoutes = new Hono<RelayEnv>();

healthRoutes.get("/healthz", async (c) => {
  let reply: unknown;
  try {
    reply = await c.get("redis")().ping();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProblemError("redis_unavailable", `Redis did not answer PING: ${oneLine(reason)}`);
  }
  if (reply !== "PONG")
    throw new ProblemError("redis_unavailable", `Redis answered PING with ${JSON.stringify(reply)}`);
  return c.json({ ok: true as const });
});
