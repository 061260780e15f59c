/**
 * The relay as a library (`import { createApp, parseConfig } from "edge-relay"`): the Hono app and its
 * configuration parser, for a Worker, Deno or Node server of your own, or mounted inside your own Hono app
 * (docs/deploy.md). Runtime-agnostic like the app itself.
 */
export { type AppOptions, createApp, REDIS_CALLS_HEADER } from "./app.ts";
export { CONFIG_VARIABLES, ConfigError, parseConfig, type RelayConfig } from "./config.ts";
export type { RelayEnv, RelayVariables } from "./context.ts";
