import { Hono } from "hono";
import type { RelayEnv } from "../context.ts";
import { openApiJson } from "../openapi.ts";

/** GET /openapi.json: the OpenAPI 3.1 document generated from the validating zod schemas. No auth. */
export const openApiRoutes = new Hono<RelayEnv>();

openApiRoutes.get("/openapi.json", (c) => c.body(openApiJson(), 200, { "content-type": "application/json" }));
