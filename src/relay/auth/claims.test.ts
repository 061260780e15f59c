import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sign } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProblemError } from "../../protocol/problems.ts";
import { parseConfig } from "../config.ts";
import { msUntilExpiry, tokenFromRequest, verifyToken } from "./claims.ts";

const SECRET = "unit-test-secret";
const base = { UPSTASH_REDIS_REST_URL: "https://example.upstash.io", UPSTASH_REDIS_REST_TOKEN: "t" };
const now = () => Math.floor(Date.now() / 1000);

async function rejection(promise: Promise<unknown>): Promise<ProblemError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProblemError);
  return error as ProblemError;
}

describe("tokenFromRequest", () => {
  it("reads the Bearer header, else ?access_token=, else null", () => {
    expect(
      tokenFromRequest(new Request("http://x/v1/kv/a", { headers: { authorization: "Bearer abc" } })),
    ).toBe("abc");
    expect(
      tokenFromRequest(new Request("http://x/v1/kv/a", { headers: { authorization: "bearer   abc" } })),
    ).toBe("abc");
    expect(tokenFromRequest(new Request("http://x/v1/kv/a?access_token=q"))).toBe("q");
    expect(
      tokenFromRequest(
        new Request("http://x/v1/kv/a?access_token=q", { headers: { authorization: "Bearer h" } }),
      ),
    ).toBe("h");
    expect(tokenFromRequest(new Request("http://x/v1/kv/a"))).toBeNull();
    expect(() =>
      tokenFromRequest(new Request("http://x/", { headers: { authorization: "Basic abc" } })),
    ).toThrow(ProblemError);
    expect(() =>
      tokenFromRequest(new Request("http://x/", { headers: { authorization: "Bearer a b" } })),
    ).toThrow(ProblemError);
  });
});

describe("verifyToken with HS256", () => {
  const config = parseConfig({ ...base, RELAY_JWT_SECRET: SECRET });

  it("returns scopes, exp and sub", async () => {
    const token = await sign({ scope: "publish:a subscribe:*", exp: now() + 60, sub: "u1" }, SECRET, "HS256");
    const claims = await verifyToken(token, config);
    expect(claims).toEqual({ scopes: ["publish:a", "subscribe:*"], exp: now() + 60, sub: "u1" });
    expect(msUntilExpiry(claims)).toBeGreaterThan(0);
    expect(msUntilExpiry({ scopes: [] })).toBe(Number.POSITIVE_INFINITY);
  });

  it("rejects expired, not-yet-valid, wrongly signed, other-algorithm and malformed tokens with 401", async () => {
    expect(
      (await rejection(verifyToken(await sign({ exp: now() - 5 }, SECRET, "HS256"), config))).problem.code,
    ).toBe("token_expired");
    expect(
      (await rejection(verifyToken(await sign({ nbf: now() + 600 }, SECRET, "HS256"), config))).problem.code,
    ).toBe("unauthorized");
    expect((await rejection(verifyToken(await sign({}, "other", "HS256"), config))).problem.detail).toMatch(
      /signature/,
    );
    expect((await rejection(verifyToken(await sign({}, SECRET, "HS512"), config))).problem.detail).toMatch(
      /HS512/,
    );
    for (const junk of ["", "a.b", "a.b.c", "x".repeat(9000)])
      expect((await rejection(verifyToken(junk, config))).status).toBe(401);
  });

  it("tolerates a future iat (clock skew between issuer and relay)", async () => {
    const token = await sign({ scope: "admin", iat: now() + 30, exp: now() + 90 }, SECRET, "HS256");
    expect((await verifyToken(token, config)).scopes).toEqual(["admin"]);
  });

  it("without exp: 401 saying why, unless RELAY_REQUIRE_EXP=false (then no expiry); a non-numeric exp is 401 always", async () => {
    const forever = await sign({ scope: "admin" }, SECRET, "HS256");
    const problem = (await rejection(verifyToken(forever, config))).problem;
    expect(problem.code).toBe("unauthorized");
    expect(problem.detail).toMatch(/no exp claim.*RELAY_REQUIRE_EXP=true/);
    const lenient = parseConfig({ ...base, RELAY_JWT_SECRET: SECRET, RELAY_REQUIRE_EXP: "false" });
    const claims = await verifyToken(forever, lenient);
    expect(claims).toEqual({ scopes: ["admin"] });
    expect(msUntilExpiry(claims)).toBe(Number.POSITIVE_INFINITY);
    // A present exp that is not a number is refused as expired, whatever RELAY_REQUIRE_EXP says.
    for (const exp of ["9999999999", null, { at: 1 }]) {
      const odd = await sign({ scope: "admin", exp } as never, SECRET, "HS256");
      expect((await rejection(verifyToken(odd, lenient))).problem.code).toBe("token_expired");
    }
  });

  it("a scope claim in any form but a space-separated string is 401 naming what it got", async () => {
    const token = await sign({ scope: ["admin"], exp: now() + 60 }, SECRET, "HS256");
    expect((await rejection(verifyToken(token, config))).problem.detail).toMatch(/scope claim.*an array/);
    const noScope = await sign({ exp: now() + 60 }, SECRET, "HS256");
    expect((await verifyToken(noScope, config)).scopes).toEqual([]);
  });

  it("RELAY_AUTH=none allows everything without a token", async () => {
    expect(await verifyToken("anything", parseConfig({ ...base, RELAY_AUTH: "none" }))).toEqual({
      scopes: ["admin"],
    });
  });
});

describe("verifyToken with a JWKS URL (ES256)", () => {
  let server: Server;
  let jwksUrl = "";
  let privateJwk: JsonWebKey & { kid: string; alg: string };
  let fetches = 0;

  beforeAll(async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    privateJwk = { ...(await crypto.subtle.exportKey("jwk", pair.privateKey)), kid: "k1", alg: "ES256" };
    const publicJwk = {
      ...(await crypto.subtle.exportKey("jwk", pair.publicKey)),
      kid: "k1",
      alg: "ES256",
      use: "sig",
    };
    server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("verifies tokens signed by a key in the set and caches the set", async () => {
    const config = parseConfig({ ...base, RELAY_JWKS_URL: jwksUrl, RELAY_JWT_SECRET: SECRET });
    const token = await sign({ scope: "admin", exp: now() + 60 }, privateJwk as never);
    expect((await verifyToken(token, config)).scopes).toEqual(["admin"]);
    await verifyToken(token, config);
    expect(fetches).toBe(1);
    // HS256 still works beside the JWKS.
    const hs256 = await sign({ scope: "x", exp: now() + 60 }, SECRET, "HS256");
    expect((await verifyToken(hs256, config)).scopes).toEqual(["x"]);
    const { kid: _kid, ...noKid } = privateJwk;
    const unknownKid = await sign({ scope: "admin" }, { ...noKid, kid: "other" } as never);
    expect((await rejection(verifyToken(unknownKid, config))).status).toBe(401);
  });

  it("without a JWKS URL an ES256 token is refused", async () => {
    const token = await sign({ scope: "admin" }, privateJwk as never);
    expect(
      (await rejection(verifyToken(token, parseConfig({ ...base, RELAY_JWT_SECRET: SECRET })))).problem
        .detail,
    ).toMatch(/ES256/);
  });
});
