import * as z from "zod";

/**
 * The relay's configuration, parsed once from the runtime's environment (Workers `env`, `Deno.env`,
 * `process.env`). Every value arrives as a string; a bad value fails with the variable's name.
 */
const integer = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text === "") return fallback;
      const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be a whole number from ${min} to ${max}, got "${text}"`,
        });
        return z.NEVER;
      }
      return value;
    });

const flag = (name: string, fallback: boolean) =>
  z
    .string()
    .trim()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text === "") return fallback;
      const lower = text.toLowerCase();
      if (["1", "true", "yes", "on"].includes(lower)) return true;
      if (["0", "false", "no", "off"].includes(lower)) return false;
      ctx.addIssue({ code: "custom", message: `${name} must be true or false, got "${text}"` });
      return z.NEVER;
    });

const httpUrl = (name: string) =>
  z
    .string({ error: `${name} is required (the Upstash REST URL, e.g. https://xyz.upstash.io)` })
    .trim()
    .regex(/^https?:\/\/[^\s#$./?].\S*$/, `${name} must be an http(s) URL`);

/** RELAY_SHUTDOWN_MS's default: a few seconds for in-flight requests (docs/sse.md#shutdown). */
export const DEFAULT_SHUTDOWN_MS = 5000;

const envSchema = z
  .object({
    UPSTASH_REDIS_REST_URL: httpUrl("UPSTASH_REDIS_REST_URL"),
    UPSTASH_REDIS_REST_TOKEN: z
      .string({ error: "UPSTASH_REDIS_REST_TOKEN is required" })
      .trim()
      .min(1, "UPSTASH_REDIS_REST_TOKEN must not be empty"),
    RELAY_AUTH: z
      .enum(["jwt", "none"], { error: 'RELAY_AUTH must be "jwt" (default) or "none"' })
      .optional()
      .default("jwt"),
    RELAY_JWT_SECRET: z.string().optional(),
    RELAY_JWKS_URL: z
      .string()
      .trim()
      .regex(/^https?:\/\/\S+$/, "RELAY_JWKS_URL must be an http(s) URL")
      .optional(),
    RELAY_REQUIRE_EXP: flag("RELAY_REQUIRE_EXP", true),
    RELAY_HISTORY: integer("RELAY_HISTORY", 1000, 1, 10_000_000),
    RELAY_HISTORY_TTL_S: integer("RELAY_HISTORY_TTL_S", 86_400, 1, 315_360_000),
    RELAY_IDEMPOTENCY_S: integer("RELAY_IDEMPOTENCY_S", 300, 1, 31_536_000),
    RELAY_MIRROR_RAW: flag("RELAY_MIRROR_RAW", true),
    RELAY_MAX_BODY: integer("RELAY_MAX_BODY", 1_048_576, 1, 100 * 1_048_576),
    RELAY_KV_PREFIX: z
      .string()
      .regex(/^[^\s\p{Cc}]*$/u, "RELAY_KV_PREFIX must not contain whitespace or control characters")
      .refine((prefix) => !prefix.startsWith("relay:"), 'RELAY_KV_PREFIX must not start with "relay:"')
      .optional()
      .default(""),
    RELAY_HEARTBEAT_MS: integer("RELAY_HEARTBEAT_MS", 15_000, 100, 3_600_000),
    RELAY_SSE_MAX_MS: integer("RELAY_SSE_MAX_MS", 300_000, 1_000, 86_400_000),
    RELAY_SSE_MAX_CHANNELS: integer("RELAY_SSE_MAX_CHANNELS", 64, 32, 256),
    RELAY_SSE_MAX_BACKLOG: integer("RELAY_SSE_MAX_BACKLOG", 1000, 1, 1_000_000),
    RELAY_LONGPOLL_MAX_S: integer("RELAY_LONGPOLL_MAX_S", 30, 0, 30),
    RELAY_HUB: flag("RELAY_HUB", true),
    RELAY_HUB_READ_TIMEOUT_MS: integer("RELAY_HUB_READ_TIMEOUT_MS", 5_000, 100, 600_000),
    RELAY_SHUTDOWN_MS: integer("RELAY_SHUTDOWN_MS", DEFAULT_SHUTDOWN_MS, 0, 600_000),
  })
  .superRefine((env, ctx) => {
    if (env.RELAY_AUTH === "jwt" && !env.RELAY_JWT_SECRET && !env.RELAY_JWKS_URL) {
      ctx.addIssue({
        code: "custom",
        path: ["RELAY_JWT_SECRET"],
        message: "RELAY_JWT_SECRET (or RELAY_JWKS_URL) is required unless RELAY_AUTH=none",
      });
    }
  });

export interface RelayConfig {
  upstash: { url: string; token: string };
  auth:
    | {
        mode: "jwt";
        secret: string | undefined;
        jwksUrl: string | undefined;
        /** Refuse tokens without `exp` (RELAY_REQUIRE_EXP, default true). */
        requireExp: boolean;
      }
    | { mode: "none" };
  /** XADD MAXLEN ~ of every channel log. */
  history: number;
  historyTtlSeconds: number;
  idempotencySeconds: number;
  mirrorRaw: boolean;
  maxBodyBytes: number;
  kvPrefix: string;
  heartbeatMs: number;
  sseMaxMs: number;
  /** Channels + patterns one SSE connection may name. */
  sseMaxChannels: number;
  /** Unsent messages a slow SSE consumer may have queued before it is closed. */
  sseMaxBacklog: number;
  longPollMaxSeconds: number;
  /**
   * One shared upstream subscription per channel and pattern per process (docs/sse.md, "The delivery hub"), on
   * the entries that run one (Node, Deno); off = the direct path (one upstream stream per SSE stream).
   */
  hub: boolean;
  /**
   * The longest one of the hub's history reads (catching up, filling a gap, checking) may take; past it the read
   * fails like any failed read: the streams it held end and resume from their cursors (docs/sse.md).
   */
  hubReadTimeoutMs: number;
  /** Node and Deno: after SIGTERM/SIGINT, how long open requests get to finish before they are cut. */
  shutdownMs: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The variables read; entries copy exactly these out of their runtime's environment. */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];

/**
 * Parses the environment once. Throws ConfigError naming every bad variable. `env` is any object with the
 * variables as properties: `process.env`, a Worker's typed `Env`, a literal.
 */
export function parseConfig(env: object): RelayConfig {
  const variables = env as Readonly<Record<string, unknown>>;
  const picked: Record<string, unknown> = {};
  for (const name of CONFIG_VARIABLES) {
    const value = variables[name];
    if (value !== undefined) picked[name] = typeof value === "string" ? value : String(value);
  }
  const result = envSchema.safeParse(picked);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = issue.path.join(".") || "environment";
      return issue.message.includes(name) ? issue.message : `${name}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid relay configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = result.data;
  return {
    upstash: { url: e.UPSTASH_REDIS_REST_URL.replace(/\/+$/, ""), token: e.UPSTASH_REDIS_REST_TOKEN },
    auth:
      e.RELAY_AUTH === "none"
        ? { mode: "none" }
        : {
            mode: "jwt",
            secret: e.RELAY_JWT_SECRET || undefined,
            jwksUrl: e.RELAY_JWKS_URL,
            requireExp: e.RELAY_REQUIRE_EXP,
          },
    history: e.RELAY_HISTORY,
    historyTtlSeconds: e.RELAY_HISTORY_TTL_S,
    idempotencySeconds: e.RELAY_IDEMPOTENCY_S,
    mirrorRaw: e.RELAY_MIRROR_RAW,
    maxBodyBytes: e.RELAY_MAX_BODY,
    kvPrefix: e.RELAY_KV_PREFIX,
    heartbeatMs: e.RELAY_HEARTBEAT_MS,
    sseMaxMs: e.RELAY_SSE_MAX_MS,
    sseMaxChannels: e.RELAY_SSE_MAX_CHANNELS,
    sseMaxBacklog: e.RELAY_SSE_MAX_BACKLOG,
    longPollMaxSeconds: e.RELAY_LONGPOLL_MAX_S,
    hub: e.RELAY_HUB,
    hubReadTimeoutMs: e.RELAY_HUB_READ_TIMEOUT_MS,
    shutdownMs: e.RELAY_SHUTDOWN_MS,
  };
}
