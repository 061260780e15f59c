import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import { ProblemError } from "../../protocol/problems.ts";
import { parseConfig } from "../config.ts";
import { verifyToken } from "./claims.ts";
import { createVerifiedTokens } from "./verified-tokens.ts";

const base = { UPSTASH_REDIS_REST_URL: "https://example.upstash.io", UPSTASH_REDIS_REST_TOKEN: "t" };
const nowS = () => Math.floor(Date.now() / 1000);

describe("createVerifiedTokens", () => {
  it("keeps claims until the earlier of exp and the TTL, and drops the oldest past its limit", () => {
    const cache = createVerifiedTokens(2, 60_000);
    const t0 = 1_000_000;
    cache.set("a", { scopes: ["admin"], exp: t0 / 1000 + 5 }, t0);
    expect(cache.get("a", t0 + 4_999)?.scopes).toEqual(["admin"]);
    expect(cache.get("a", t0 + 5_000)).toBeUndefined(); // at exp: verified (and refused) again
    cache.set("b", { scopes: ["x"] }, t0);
    expect(cache.get("b", t0 + 59_999)).toBeDefined();
    expect(cache.get("b", t0 + 60_000)).toBeUndefined();
    cache.set("c", { scopes: [] }, t0);
    cache.set("d", { scopes: [] }, t0);
    cache.set("e", { scopes: [] }, t0);
    expect(cache.size).toBe(2);
    expect(cache.get("c", t0)).toBeUndefined();
    expect(cache.get("e", t0)).toBeDefined();
  });

  it("never keeps a token that is already expired", () => {
    const cache = createVerifiedTokens();
    cache.set("old", { scopes: [], exp: 10 }, 20_000);
    expect(cache.size).toBe(0);
  });
});

describe("verifyToken with the cache", () => {
  it("a cached token is still refused once it expires, and a token of another secret is never accepted", async () => {
    const config = parseConfig({ ...base, RELAY_JWT_SECRET: "one" });
    const token = await sign({ scope: "admin", exp: nowS() + 1 }, "one", "HS256");
    expect((await verifyToken(token, config)).scopes).toEqual(["admin"]);
    expect((await verifyToken(token, config)).scopes).toEqual(["admin"]); // from the cache
    const forged = await sign({ scope: "admin", exp: nowS() + 60 }, "two", "HS256");
    await expect(verifyToken(forged, config)).rejects.toBeInstanceOf(ProblemError);
    // The same token under another config (another secret) is verified on its own, and refused.
    await expect(
      verifyToken(token, parseConfig({ ...base, RELAY_JWT_SECRET: "two" })),
    ).rejects.toBeInstanceOf(ProblemError);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const error = await verifyToken(token, config).catch((e: unknown) => e);
    expect((error as ProblemError).problem.code).toBe("token_expired");
  });
});
