import type { Redis } from "@upstash/redis";
import { sign } from "hono/jwt";

/**
 * One relay under test. Scenarios are plain async functions over this interface, written once and run
 * in every runtime: inside workerd (vitest + @cloudflare/vitest-plugin), over real sockets (Miniflare on a
 * loopback port), on Deno (`deno test`) and on Node (the Node entry). Assertions use `node:assert/strict`,
 * which all of them provide.
 */
export interface RelayTarget {
  /** Which runtime serves the relay. */
  runtime: "workers" | "miniflare-socket" | "deno" | "node";
  /** Fetch a relay path such as "/v1/kv/a" (absolute URLs are passed through). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** An HS256 JWT for the relay's secret with the given space-separated `scope` claim. */
  token(scope: string, options?: TokenOptions): Promise<string>;
  /**
   * True when the relay runs the delivery hub (one shared upstream subscription per channel, Node and Deno by
   * default): streams then open no upstream stream of their own. False or absent: the direct path.
   */
  hub?: boolean;
  /** True when Redis is a Redis Cluster: a batch may then span one hash slot only (docs/api.md, `cross_slot`). */
  cluster?: boolean;
  /** Direct Redis access through the REST proxy (automaticDeserialization off): to inspect and to break things. */
  redis: Redis;
}

export interface Scenario {
  name: string;
  run(target: RelayTarget): Promise<void>;
}

export interface TokenOptions {
  expiresInSeconds?: number;
  /** Claims to override; a claim set to undefined is left out of the token (`{ exp: undefined }`: no expiry). */
  claims?: Record<string, unknown>;
}

/** Mints a relay token the way `relay token` does (unless `claims` says otherwise). */
export async function mintToken(secret: string, scope: string, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = { scope, iat: now, exp: now + (options.expiresInSeconds ?? 600), ...options.claims };
  return sign(JSON.parse(JSON.stringify(payload)), secret, "HS256");
}

/** A unique name per test run, so scenarios never share channels or keys. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}
