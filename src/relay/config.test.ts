import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "./config.ts";

const base = {
  UPSTASH_REDIS_REST_URL: "https://example.upstash.io/",
  UPSTASH_REDIS_REST_TOKEN: "t",
  RELAY_JWT_SECRET: "s",
};

describe("parseConfig", () => {
  it("applies the design's defaults", () => {
    const config = parseConfig(base);
    expect(config).toMatchObject({
      upstash: { url: "https://example.upstash.io", token: "t" },
      auth: { mode: "jwt", secret: "s", requireExp: true },
      history: 1000,
      historyTtlSeconds: 86_400,
      idempotencySeconds: 300,
      mirrorRaw: true,
      maxBodyBytes: 1_048_576,
      kvPrefix: "",
      heartbeatMs: 15_000,
      sseMaxMs: 300_000,
      longPollMaxSeconds: 30,
      shutdownMs: 5000,
      hubReadTimeoutMs: 5000,
    });
    expect(config.sseMaxChannels).toBeGreaterThanOrEqual(32);
  });

  it("reads every RELAY_* variable, ignoring unrelated ones", () => {
    const config = parseConfig({
      ...base,
      RELAY_AUTH: "none",
      RELAY_HISTORY: "5",
      RELAY_HISTORY_TTL_S: "60",
      RELAY_IDEMPOTENCY_S: "10",
      RELAY_MIRROR_RAW: "false",
      RELAY_MAX_BODY: "1024",
      RELAY_KV_PREFIX: "app1:",
      RELAY_HEARTBEAT_MS: "500",
      RELAY_SSE_MAX_MS: "2000",
      RELAY_SHUTDOWN_MS: "0",
      RELAY_HUB_READ_TIMEOUT_MS: "1500",
      PATH: "/usr/bin",
      UNRELATED: 5,
    });
    expect(config).toMatchObject({
      auth: { mode: "none" },
      history: 5,
      historyTtlSeconds: 60,
      idempotencySeconds: 10,
      mirrorRaw: false,
      maxBodyBytes: 1024,
      kvPrefix: "app1:",
      heartbeatMs: 500,
      sseMaxMs: 2000,
      shutdownMs: 0,
      hubReadTimeoutMs: 1500,
    });
  });

  it.each([
    [{ UPSTASH_REDIS_REST_TOKEN: "t", RELAY_JWT_SECRET: "s" }, "UPSTASH_REDIS_REST_URL"],
    [{ ...base, UPSTASH_REDIS_REST_URL: "redis://localhost:6379" }, "UPSTASH_REDIS_REST_URL"],
    [{ ...base, UPSTASH_REDIS_REST_TOKEN: "" }, "UPSTASH_REDIS_REST_TOKEN"],
    [{ ...base, RELAY_JWT_SECRET: undefined }, "RELAY_JWT_SECRET"],
    [{ ...base, RELAY_AUTH: "off" }, "RELAY_AUTH"],
    [{ ...base, RELAY_HISTORY: "lots" }, "RELAY_HISTORY"],
    [{ ...base, RELAY_HISTORY: "0" }, "RELAY_HISTORY"],
    [{ ...base, RELAY_MAX_BODY: "-1" }, "RELAY_MAX_BODY"],
    [{ ...base, RELAY_MIRROR_RAW: "maybe" }, "RELAY_MIRROR_RAW"],
    [{ ...base, RELAY_REQUIRE_EXP: "sometimes" }, "RELAY_REQUIRE_EXP"],
    [{ ...base, RELAY_KV_PREFIX: "relay:x" }, "RELAY_KV_PREFIX"],
    [{ ...base, RELAY_KV_PREFIX: "a b" }, "RELAY_KV_PREFIX"],
    [{ ...base, RELAY_JWKS_URL: "not a url" }, "RELAY_JWKS_URL"],
    [{ ...base, RELAY_SHUTDOWN_MS: "5s" }, "RELAY_SHUTDOWN_MS"],
    [{ ...base, RELAY_HUB_READ_TIMEOUT_MS: "0" }, "RELAY_HUB_READ_TIMEOUT_MS"],
  ])("a bad value fails naming the variable (%#: %s)", (env, name) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(name);
  });

  it("accepts a JWKS URL instead of a secret", () => {
    const { RELAY_JWT_SECRET: _s, ...rest } = base;
    expect(
      parseConfig({ ...rest, RELAY_JWKS_URL: "https://issuer.example/.well-known/jwks.json" }).auth,
    ).toEqual({
      mode: "jwt",
      secret: undefined,
      jwksUrl: "https://issuer.example/.well-known/jwks.json",
      requireExp: true,
    });
  });

  it("RELAY_REQUIRE_EXP is true unless set to false", () => {
    expect(parseConfig({ ...base, RELAY_REQUIRE_EXP: "false" }).auth).toMatchObject({ requireExp: false });
    expect(parseConfig({ ...base, RELAY_REQUIRE_EXP: "true" }).auth).toMatchObject({ requireExp: true });
  });
});
